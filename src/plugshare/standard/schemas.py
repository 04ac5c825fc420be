"""Generate the published JSON Schema files from the models.

One file per message type (the CloudEvents envelope with its record under
``data``) and ``common.json`` with the definitions every message shares. The
files are the product: ``plugshare spec export`` writes them and
``--check`` fails when the committed copies differ.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, create_model
from pydantic.json_schema import GenerateJsonSchema

from plugshare.models import MESSAGE_TYPES, cloudevents_type, common, message_model
from plugshare.models.types import COMMON_DEFS, COMMON_MARKER, COMMON_SCHEMA_FILE
from plugshare.models.version import SCHEMA_BASE, schema_id

DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: Models defined once in common.json rather than in each message file.
COMMON_MODELS: tuple[type[BaseModel], ...] = (
    common.Identifier,
    common.Address,
    common.PropertyAddress,
    common.PersonName,
    common.Period,
    common.Nation,
    common.Action,
)
_COMMON_MODEL_NAMES = {model.__name__ for model in COMMON_MODELS}


class StandardSchemaGenerator(GenerateJsonSchema):
    """pydantic's generator with the standard's conventions.

    An optional field may be absent but is never null: absence means unknown.
    Field titles are dropped (the property name says it); model titles stay.
    """

    def nullable_schema(self, schema):  # type: ignore[override]
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema):  # type: ignore[override]
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None:
            del json_schema["default"]
        return json_schema

    def field_title_should_be_set(self, schema) -> bool:  # type: ignore[override]
        return False


def file_name(message_type: str) -> str:
    return f"{message_type}.json"


__all__ = ["SCHEMA_BASE", "schema_id", "file_name", "published_schemas", "common_schema", "message_schema"]


def _rewrite(node: Any) -> Any:
    """Turn common-type markers and local refs to common models into refs to common.json."""
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value) for key, value in node.items()}
    if COMMON_MARKER in out:
        name = out.pop(COMMON_MARKER)
        out = {"$ref": f"{COMMON_SCHEMA_FILE}#/$defs/{name}", **out}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[len("#/$defs/"):] in _COMMON_MODEL_NAMES:
        out["$ref"] = f"{COMMON_SCHEMA_FILE}#/$defs/{ref[len('#/$defs/'):]}"
    return out


def _generate(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=StandardSchemaGenerator, mode="validation")


def _header(name: str, title: str, description: str) -> dict[str, Any]:
    return {"$schema": DIALECT, "$id": schema_id(name), "title": title, "description": description}


def common_schema() -> dict[str, Any]:
    holder = create_model("CommonHolder", **{m.__name__: (m, ...) for m in COMMON_MODELS})
    generated = _rewrite(_generate(holder))
    defs = {**COMMON_DEFS, **{k: v for k, v in generated["$defs"].items() if k in _COMMON_MODEL_NAMES}}
    return {
        **_header(
            COMMON_SCHEMA_FILE,
            "plugshare common definitions",
            "Types shared by every plugshare message: money, dates, record identity, extensions, "
            "UK identifiers and BS7666 addresses. Message schemas refer here; suppliers may too.",
        ),
        "$defs": dict(sorted(defs.items())),
    }


def message_schema(message_type: str) -> dict[str, Any]:
    model = message_model(message_type)
    record = MESSAGE_TYPES[message_type]
    generated = _rewrite(_generate(model))
    defs = {k: v for k, v in generated.pop("$defs", {}).items() if k not in _COMMON_MODEL_NAMES}
    generated.pop("title", None)
    generated.pop("description", None)
    doc = (record.__doc__ or "").strip().splitlines()[0] if record.__doc__ else ""
    schema = {
        **_header(
            file_name(message_type),
            f"{cloudevents_type(message_type)} message",
            f"A plugshare {message_type} message: a CloudEvents 1.0 event whose data is a "
            f"{record.__name__} record. {doc}".strip(),
        ),
        **generated,
    }
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def published_schemas() -> dict[str, str]:
    """File name under spec/schemas -> its text."""
    files = {COMMON_SCHEMA_FILE: render(common_schema())}
    for message_type in sorted(MESSAGE_TYPES):
        files[file_name(message_type)] = render(message_schema(message_type))
    return files
