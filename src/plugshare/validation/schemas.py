"""Validate messages against the published schema files themselves, not the models.

The registry is built from spec/schemas, so what suppliers download is what is
tested. A schema error is mapped to a requirement by the nearest
``x-requirement`` on the failing subschema, falling back to PS-SCH-001.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from plugshare.standard.paths import schemas_dir
from plugshare.validation.problems import Problem

FALLBACK_REQUIREMENT = "PS-SCH-001"

#: Fields whose values are personal data: reports never show them.
SENSITIVE_FIELDS = {"ni_number", "birth_date", "account_number", "sort_code", "building_society_roll_number", "email",
                    "phone"}


class SchemaSet:
    """The published schemas, by message type, ready to validate."""

    def __init__(self, directory: Path):
        resources = []
        self.ids: dict[str, str] = {}
        for path in sorted(directory.glob("*.json")):
            contents = json.loads(path.read_text(encoding="utf-8"))
            resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012)))
            if path.name != "common.json":
                self.ids[path.name.removesuffix(".json")] = contents["$id"]
        self.registry: Registry = Registry().with_resources(resources)
        self._validators: dict[str, Draft202012Validator] = {}

    @property
    def message_types(self) -> list[str]:
        return sorted(self.ids)

    def validator(self, message_type: str) -> Draft202012Validator:
        if message_type not in self._validators:
            uri = self.ids[message_type]
            schema = dereference(self.registry.contents(uri), self.registry.resolver(base_uri=uri))
            self._validators[message_type] = Draft202012Validator(
                schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validators[message_type]

    def problems(self, message_type: str, message: dict[str, Any]) -> list[Problem]:
        errors = self.validator(message_type).iter_errors(message)
        return [problem_from_error(error) for error in sorted(errors, key=lambda e: list(e.absolute_path))]


_ANNOTATIONS = {"description", "default", "title", "examples", "$comment"}


MAX_REFERENCE_DEPTH = 32


def dereference(node: Any, resolver, depth: int = 0) -> Any:
    """The schema with every ``$ref`` replaced by what it points to, resolved once.

    Validation then never looks up references, which is most of its cost. The published
    schemas are not recursive; a reference chain deeper than any they have is refused.
    """
    if isinstance(node, list):
        return [dereference(item, resolver, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        if depth >= MAX_REFERENCE_DEPTH:
            raise ValueError(f"schema references nest deeper than {MAX_REFERENCE_DEPTH} at {node['$ref']}")
        resolved = resolver.lookup(node["$ref"])
        inner = dereference(resolved.contents, resolved.resolver, depth + 1)
        siblings = {k: dereference(v, resolver, depth) for k, v in node.items() if k != "$ref"}
        if set(siblings) <= _ANNOTATIONS:
            return {**siblings, **inner}
        return {**siblings, "allOf": [*siblings.pop("allOf", []), inner]}
    return {key: (dereference(value, resolver, depth) if key not in ("$defs", "const", "enum") else value)
            for key, value in node.items()}


@cache
def published_schemas() -> SchemaSet:
    return SchemaSet(schemas_dir())


def pointer_of(path) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def shown(pointer: str, value: Any) -> str:
    """A value as a report may show it: personal data withheld, long values cut."""
    if pointer.rsplit("/", 1)[-1] in SENSITIVE_FIELDS:
        return "the value (withheld: personal data)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def reason_for(error: ValidationError, pointer: str) -> str:
    keyword, expected, value = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    what = schema.get("title")
    if keyword == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        return f"missing required field {missing[0]!r}" if missing else error.message
    if keyword == "additionalProperties":
        extra = sorted(set(value) - set(schema.get("properties", {}))) if isinstance(value, dict) else []
        return (f"unknown field {', '.join(repr(e) for e in extra)}: local or vendor fields belong in "
                "extensions under a namespace")
    if keyword == "type":
        return f"expected a JSON {expected}, got a JSON {_json_type(value)}"
    if keyword == "enum":
        options = ", ".join(json.dumps(o) for o in expected[:12]) + (", ..." if len(expected) > 12 else "")
        return f"{shown(pointer, value)} is not one of {options}"
    if keyword == "const":
        return f"{shown(pointer, value)} must be {json.dumps(expected)}"
    if keyword == "pattern":
        described = f"a valid {what}" if what else f"of the form {expected}"
        return f"{shown(pointer, value)} is not {described}"
    if keyword == "not":
        return f"{shown(pointer, value)} is not allowed" + (f" ({what})" if what else "")
    if keyword == "format":
        return f"{shown(pointer, value)} is not a valid {expected}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "below the minimum", "maximum": "above the maximum",
                "exclusiveMinimum": "not above", "exclusiveMaximum": "not below"}[keyword]
        return f"{shown(pointer, value)} is {word} {expected}"
    if keyword in ("minLength", "maxLength"):
        bound = "at least" if keyword == "minLength" else "at most"
        return f"the text is {len(value)} characters long; {bound} {expected} allowed"
    if keyword in ("minItems", "maxItems"):
        return f"{len(value)} items; {'at least' if keyword == 'minItems' else 'at most'} {expected} allowed"
    if keyword == "oneOf":
        alternatives = [next(iter(option.get("required", ["?"]))) for option in expected]
        return f"give exactly one of {' and '.join(alternatives)}"
    return error.message if pointer.rsplit("/", 1)[-1] not in SENSITIVE_FIELDS else f"the value breaks '{keyword}'"


def problem_from_error(error: ValidationError) -> Problem:
    pointer = pointer_of(error.absolute_path)
    requirement = FALLBACK_REQUIREMENT
    if isinstance(error.schema, dict) and "x-requirement" in error.schema:
        requirement = error.schema["x-requirement"]
    if "propertyNames" in error.relative_schema_path:
        name = error.instance
        what = error.schema.get("title", "name") if isinstance(error.schema, dict) else "name"
        return Problem(requirement, "MUST", pointer_of([*error.absolute_path, name]),
                       f"{name!r} is not allowed here: expected a {what}")
    reason = reason_for(error, pointer)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            pointer = pointer_of([*error.absolute_path, missing[0]])
    return Problem(requirement, "MUST", pointer, reason)
