"""Generate the published OpenAPI 3.1 description of the plugshare REST API.

The request and response bodies are the published message schemas themselves,
hoisted into ``components.schemas``, so a supplier's generated client or server
accepts exactly the messages the validator does. Component names are plain
PascalCase identifiers (``HrPerson``, ``HrPersonPage``) that code generators in
any language turn into type names unchanged, and every operation declares its
own security. ``plugshare spec export`` writes ``spec/openapi.yaml``; ``--check``
fails when the committed copy differs.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from plugshare.models import MESSAGE_TYPES, api_path, cloudevents_type
from plugshare.models.types import COMMON_SCHEMA_FILE
from plugshare.models.version import STANDARD_VERSION
from plugshare.standard.examples import base as example_message
from plugshare.standard.schemas import DIALECT, common_schema, message_schema

OPENAPI_FILE = "openapi.yaml"
SCHEMAS = "#/components/schemas/"
PROBLEM_BASE = "https://plugshare.uk/problems/"
JSON = "application/json"
NDJSON = "application/x-ndjson"
PROBLEM_JSON = "application/problem+json"

#: What a credential may do with a message type, as capabilities declares it.
OPERATIONS = ("list", "get", "changes", "upsert", "delete")
FEATURES = ("change-feed", "bulk-import", "bulk-export", "conditional-requests")
#: The largest page any server gives: limit is at most this, and so is a declared max_page_size.
MAX_PAGE_SIZE = 1000
DOMAINS = {
    "hr": "People, employments, positions, the organisation tree and absence.",
    "payroll": "Pay runs, payslips, tax details, bank accounts for pay and pension membership.",
    "revenues": "Council tax and business rates: properties, accounts, bills, hereditaments and payments.",
}

#: status -> (problem slug, component name, description of when the server gives it)
PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("bad-request", "BadRequest",
          "The request is malformed: a query or path parameter out of its range or pattern, a cursor from "
          "another listing, or a body that is not a JSON object."),
    401: ("unauthorized", "Unauthorized",
          "No bearer token, or one that is malformed, unknown, revoked or expired (PS-API-002)."),
    403: ("forbidden", "Forbidden",
          "The credential is not bound to this council (PS-API-003). The same answer whether or not the "
          "council has data."),
    404: ("not-found", "NotFound", "No such record (absent or deleted), or no such path."),
    405: ("method-not-allowed", "MethodNotAllowed",
          "The path does not take this method, or the server is a read-only gateway and refuses writes."),
    412: ("precondition-failed", "PreconditionFailed",
          "If-Match does not name the current ETag, or If-None-Match: * and the record exists (PS-API-010)."),
    413: ("payload-too-large", "PayloadTooLarge",
          "The body exceeds the limit declared in capabilities: max_message_bytes for a message, "
          "max_import_bytes for an import (PS-API-016)."),
    415: ("unsupported-media-type", "UnsupportedMediaType",
          "The body is not of the media type the operation takes."),
    422: ("invalid-message", "InvalidMessage",
          "The message breaks a MUST requirement of the standard (listed in errors) or does not belong at "
          "this path (requirement PS-API-005 to PS-API-008); nothing is stored (PS-API-004)."),
    429: ("too-many-requests", "TooManyRequests",
          "Too many requests for now; the server did not act on this one. The client waits at least as long "
          "as Retry-After says, then sends it again (PS-API-017)."),
    500: ("internal-error", "InternalError", "The server failed; the body never carries a traceback."),
    503: ("service-unavailable", "ServiceUnavailable",
          "The server cannot answer now (overloaded or under maintenance) and did not act on the request. The "
          "client waits at least as long as Retry-After says, then sends it again (PS-API-017)."),
}
#: Statuses any operation may answer whatever the request: the client retries 429 and 503.
TRANSIENT = (429, 500, 503)
#: An example of each problem (worded as the reference server words those it gives).
_PROBLEM_EXAMPLES: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request", "limit must be an integer from 1 to 1000, not '0'", "PS-API-016"),
    401: ("Unauthorized", "give a valid bearer token: Authorization: Bearer psk_...", "PS-API-002"),
    403: ("Forbidden", "the token is not bound to council E07000992", "PS-API-003"),
    404: ("Not found", "there is no current hr.person record E07000991-p00001 in E07000991", None),
    405: ("Method not allowed", "this server is a read-only gateway", None),
    412: ("Precondition failed", "If-Match does not match the record's current ETag", "PS-API-010"),
    413: ("Payload too large", "the message is over the limit of 1,048,576 bytes", "PS-API-016"),
    415: ("Unsupported media type", "send application/json, not text/plain", None),
    422: ("Invalid message", "data.id 'E07000991-p00002' is not the id in the path, 'E07000991-p00001'", "PS-API-007"),
    429: ("Too many requests", "at most 50 requests a second; try again after Retry-After", None),
    500: ("Internal server error", "the server failed to answer this request; the failure is logged", None),
    503: ("Service unavailable", "the server is under maintenance; try again after Retry-After", None),
}
_EXAMPLE_PATH = "/v1/councils/E07000991/hr/person/E07000991-p00001"

_PUBLIC_TAG = "service"
_BULK_TAG = "bulk"


class HoistError(ValueError):
    """Two schema definitions would share one name in components.schemas."""


def operation_suffix(message_type: str) -> str:
    """``revenues.council-tax-account`` -> ``RevenuesCouncilTaxAccount``, for operationIds and component names."""
    return "".join(part.capitalize() for part in message_type.replace(".", "-").split("-"))


def schema_name(message_type: str) -> str:
    """The component of a message type's schema: ``hr.person`` -> ``HrPerson`` (a name every generator keeps)."""
    return operation_suffix(message_type)


def page_schema_name(message_type: str) -> str:
    """The component of a page of a message type: ``hr.person`` -> ``HrPersonPage``."""
    return schema_name(message_type) + "Page"


def problem_schema_name(status: int) -> str:
    """The component of the problem a status carries: 404 -> ``NotFoundProblem``."""
    return PROBLEMS[status][1] + "Problem"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def _relink(node: Any) -> Any:
    """A published schema as an OpenAPI component: refs point into components, no $id or $schema."""
    if isinstance(node, list):
        return [_relink(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("$id", "$schema"):
            continue
        if key == "$ref" and isinstance(value, str):
            for prefix in (f"{COMMON_SCHEMA_FILE}#/$defs/", "#/$defs/"):
                if value.startswith(prefix):
                    value = SCHEMAS + value[len(prefix):]
                    break
            else:
                raise HoistError(f"cannot hoist a reference to {value!r}")
            out[key] = value
        elif key in ("const", "enum", "default", "examples"):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = _relink(value)
    return out


def _hoist(components: dict[str, Any], name: str, schema: dict[str, Any], origin: str,
           origins: dict[str, str]) -> None:
    if name in components and components[name] != schema:
        raise HoistError(f"{name!r} from {origin} differs from the {name!r} of {origins[name]}")
    components.setdefault(name, schema)
    origins.setdefault(name, origin)


def message_components() -> dict[str, Any]:
    """common.json's definitions, each message type's definitions and the message schemas, by component name."""
    components: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, definition in common_schema()["$defs"].items():
        _hoist(components, name, _relink(definition), COMMON_SCHEMA_FILE, origins)
    for message_type in sorted(MESSAGE_TYPES):
        schema = message_schema(message_type)
        origin = f"{message_type}.json"
        for name, definition in schema.pop("$defs", {}).items():
            _hoist(components, name, _relink(definition), origin, origins)
        _hoist(components, schema_name(message_type), _relink(schema), origin, origins)
    return components


def _api_components() -> dict[str, Any]:
    types = sorted(MESSAGE_TYPES)
    problem_error = {
        "title": "ProblemError",
        "description": "One requirement a message breaks: which, where (a JSON pointer into the message) and why. "
                       "Personal data is never shown.",
        "type": "object",
        "additionalProperties": False,
        "required": ["requirement", "pointer", "reason"],
        "properties": {
            "requirement": {"type": "string", "pattern": "^PS-[A-Z]+-[0-9]{3}$"},
            "pointer": {"type": "string", "description": "RFC 6901 JSON pointer; empty for the whole message."},
            "reason": {"type": "string"},
        },
    }
    problem = {
        "title": "Problem",
        "description": "An RFC 9457 problem: every response with a status of 400 or more carries one (PS-API-001).",
        "type": "object",
        "required": ["type", "title", "status", "detail", "instance"],
        "properties": {
            "type": {"type": "string", "pattern": "^https://plugshare\\.uk/problems/[a-z0-9-]+$",
                     "description": f"{PROBLEM_BASE}<slug>, one slug per status."},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "description": "The path of the request."},
            "requirement": {"type": "string", "pattern": "^PS-[A-Z]+-[0-9]{3}$",
                            "description": "The requirement the request broke, when there is one."},
            "errors": {"type": "array", "items": _ref("ProblemError"),
                       "description": "Each requirement an invalid message breaks."},
        },
        "x-requirement": "PS-API-001",
    }
    message = {
        "title": "Message",
        "description": "A message of any of the standard's types, as a line of an import or an export. Its "
                       "CloudEvents type says which.",
        "oneOf": [_ref(schema_name(t)) for t in types],
        "discriminator": {"propertyName": "type",
                          "mapping": {cloudevents_type(t): SCHEMAS + schema_name(t) for t in types}},
    }
    acknowledgement = {
        "title": "ImportAcknowledgement",
        "description": "The outcome of one non-blank line of an import, in input order: accepted and stored, or "
                       "rejected with the requirements it breaks and nothing stored.",
        "type": "object",
        "additionalProperties": False,
        "required": ["line", "status"],
        "properties": {
            "line": {"type": "integer", "minimum": 1, "description": "Line number in the request body, from 1."},
            "status": {"type": "string", "enum": ["accepted", "rejected"]},
            "type": {"type": "string", "enum": types, "description": "The message type, when it could be read."},
            "id": {"type": "string", "description": "The record id, when it could be read."},
            "message_id": {"type": "string", "description": "The message's CloudEvents id, when it could be read."},
            "change": {"type": "string", "enum": ["created", "updated", "unchanged", "deleted"],
                       "description": "What storing the line did: unchanged when the record already held "
                                      "an equal message."},
            "warnings": {"type": "array", "items": _ref("ProblemError"),
                         "description": "SHOULD-level problems: they do not block the line."},
            "errors": {"type": "array", "minItems": 1, "items": _ref("ProblemError")},
        },
        "allOf": [
            {"if": {"properties": {"status": {"const": "accepted"}}},
             "then": {"required": ["type", "id", "message_id", "change"], "not": {"required": ["errors"]}}},
            {"if": {"properties": {"status": {"const": "rejected"}}},
             "then": {"required": ["errors"], "not": {"required": ["change"]}}},
        ],
        "x-requirement": "PS-API-013",
    }
    count = {"type": "integer", "minimum": 0}
    summary = {
        "title": "ImportSummary",
        "description": "The last line of an import's response: how many lines were acknowledged, and how.",
        "type": "object",
        "additionalProperties": False,
        "required": ["summary"],
        "properties": {"summary": {
            "type": "object",
            "additionalProperties": False,
            "required": ["lines", "accepted", "rejected"],
            "properties": {"lines": count, "accepted": count, "rejected": count},
        }},
        "x-requirement": "PS-API-013",
    }
    limit = {"type": "integer", "minimum": 1}
    page_size = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                 "description": f"At most {MAX_PAGE_SIZE}, the largest limit a request may give."}
    capabilities = {
        "title": "Capabilities",
        "description": "What this server is and does, so that a client or a conformance suite need not guess.",
        "type": "object",
        "additionalProperties": False,
        "required": ["product", "standard_version", "read_only", "message_types", "features", "limits"],
        "properties": {
            "product": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "version", "supplier"],
                "properties": {"name": {"type": "string", "minLength": 1},
                               "version": {"type": "string", "minLength": 1},
                               "supplier": {"type": "string", "minLength": 1}},
            },
            "standard_version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$",
                                 "description": "The version of the standard the server validates against."},
            "read_only": {"type": "boolean",
                          "description": "A read-only gateway answers every write with 405."},
            "message_types": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type", "operations"],
                    "properties": {
                        "type": {"type": "string", "enum": types},
                        "operations": {"type": "array", "uniqueItems": True,
                                       "items": {"type": "string", "enum": list(OPERATIONS)}},
                    },
                },
            },
            "features": {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": list(FEATURES)}},
            "limits": {
                "type": "object",
                "additionalProperties": False,
                "required": ["default_page_size", "max_page_size", "max_message_bytes", "max_import_bytes"],
                "properties": {"default_page_size": page_size, "max_page_size": page_size,
                               "max_message_bytes": limit, "max_import_bytes": limit},
                "x-requirement": "PS-API-016",
            },
            "profiles": {"type": "array", "items": {"type": "string", "minLength": 1},
                         "description": "The conformance profiles the supplier declares."},
        },
        "if": {"properties": {"read_only": {"const": True}}, "required": ["read_only"]},
        "then": {
            "description": "A read-only gateway declares no writes.",
            "properties": {
                "message_types": {"items": {"properties": {"operations": {
                    "items": {"enum": ["list", "get", "changes"]}}}}},
                "features": {"not": {"contains": {"const": "bulk-import"}}},
            },
        },
        "x-requirement": "PS-API-015",
    }
    health = {
        "title": "Health",
        "description": "The server is up; it says nothing of any council's data.",
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"const": "ok"}},
    }
    out = {"Message": message, "Capabilities": capabilities, "Problem": problem, "ProblemError": problem_error,
           "ImportAcknowledgement": acknowledgement, "ImportSummary": summary, "Health": health}
    for status, (slug, _, _) in PROBLEMS.items():
        out[problem_schema_name(status)] = {
            "title": problem_schema_name(status),
            "description": f"The problem of a {status} answer: type {PROBLEM_BASE}{slug}.",
            "allOf": [_ref("Problem")],
            "properties": {"type": {"const": PROBLEM_BASE + slug}, "status": {"const": status}},
        }
    for message_type in types:
        out[page_schema_name(message_type)] = {
            "title": page_schema_name(message_type),
            "description": f"One page of a list or of the change feed of {message_type}. Without updated_since: "
                           "current records ordered by id. With it: changes oldest first, a deleted record as its "
                           "delete message (tombstone).",
            "type": "object",
            "additionalProperties": False,
            "required": ["items", "watermark"],
            "properties": {
                "items": {"type": "array", "items": _ref(schema_name(message_type)),
                          "description": "At most limit messages."},
                "next_cursor": {"type": "string", "minLength": 1,
                                "description": "Opaque; pass it as cursor for the next page. Absent on the last."},
                "watermark": {**_ref("Timestamp"),
                              "description": "Pass it as updated_since later to get every change after this page "
                                             "(PS-API-012)."},
            },
        }
    return out


def components_schemas() -> dict[str, Any]:
    """Every schema of the document: the published definitions, then the API's own."""
    components = message_components()
    for name, schema in _api_components().items():
        if name in components:
            raise HoistError(f"{name!r} of the API clashes with a published definition of that name")
        components[name] = schema
    return components


def _problem_responses() -> dict[str, Any]:
    responses = {}
    for status, (slug, name, description) in PROBLEMS.items():
        response: dict[str, Any] = {"description": description}
        if status == 401:
            response["headers"] = _header_refs("WWW-Authenticate")
        if status == 405:
            response["headers"] = _header_refs("Allow")
        if status in (429, 503):
            response["headers"] = _header_refs("Retry-After")
        title, detail, requirement = _PROBLEM_EXAMPLES[status]
        example = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
                   "instance": _EXAMPLE_PATH}
        if requirement:
            example["requirement"] = requirement
        if status == 422:
            example["errors"] = [{"requirement": "PS-API-007", "pointer": "/data/id", "reason": detail}]
        response["content"] = {PROBLEM_JSON: {
            "schema": _ref(problem_schema_name(status)),
            "example": example,
        }}
        responses[name] = response
    return responses


def _headers() -> dict[str, Any]:
    return {
        "ETag": {
            "description": "Strong entity tag of the stored message (PS-API-010). The reference server uses the "
                           "first 32 hex digits of the SHA-256 of the message's canonical JSON.",
            "required": True,
            "schema": {"type": "string", "pattern": '^"[!#-~]*"$'},
        },
        "Location": {
            "description": "The path of the record created.",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
        },
        "WWW-Authenticate": {
            "description": "The bearer challenge.",
            "required": True,
            "schema": {"type": "string", "pattern": '^Bearer realm="plugshare"'},
        },
        "Allow": {
            "description": "The methods the path takes (none on a read-only gateway's import).",
            "required": True,
            "schema": {"type": "string"},
        },
        "Retry-After": {
            "description": "How long to wait before sending the request again: a number of seconds, or an HTTP "
                           "date. A client waits at least this long (PS-API-017).",
            "required": False,
            "schema": {"type": "string", "pattern": _RETRY_AFTER},
            "example": "30",
        },
    }


#: Retry-After: delay-seconds or an IMF-fixdate (RFC 9110, section 10.2.3).
_RETRY_AFTER = ("^([0-9]+|(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                "[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT)$")


def _parameters() -> dict[str, Any]:
    return {
        "council": {"name": "council", "in": "path", "required": True, "schema": _ref("CouncilCode"),
                    "description": "GSS code of the council whose data is read or written.", "example": "E07000991"},
        "id": {"name": "id", "in": "path", "required": True, "schema": _ref("RecordId"),
               "description": "The record id: data.id of an upsert, subject of a delete.",
               "example": "E07000991-p00001"},
        "limit": {"name": "limit", "in": "query", "required": False,
                  "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 100},
                  "description": "Items per page: from 1 to the max_page_size the server declares in its "
                                 "capabilities (at most 1000); default_page_size when absent. A value outside "
                                 "that range is refused with 400 (PS-API-016)."},
        "cursor": {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string", "minLength": 1},
                   "description": "next_cursor of the previous page, unchanged. A cursor of another council, type "
                                  "or mode, or a garbled one, is refused with 400."},
        "updated_since": {"name": "updated_since", "in": "query", "required": False,
                          "schema": {"type": "string", "format": "date-time"},
                          "example": "2026-11-29T10:00:00.123456Z",
                          "description": "An RFC 3339 date-time with an offset, usually the watermark of the last "
                                         "change-feed page read. Turns the list into the change feed: every change "
                                         "strictly after this time, oldest first, deletions as tombstones "
                                         "(PS-API-012). Unparseable: 400."},
        "type": {"name": "type", "in": "query", "required": False, "style": "form", "explode": True,
                 "schema": {"type": "array", "items": {"type": "string", "enum": sorted(MESSAGE_TYPES)}},
                 "description": "Export only these message types (repeatable); all by default. "
                                "An unknown type is refused with 400."},
        "If-Match": {"name": "If-Match", "in": "header", "required": False,
                     "schema": {"type": "string", "minLength": 1}, "example": '"3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6"',
                     "description": "An ETag as GET or PUT returned it (quoted), a comma-separated list of them, or "
                                    "*: write only if the record exists, not deleted, with one of them; 412 "
                                    "otherwise (PS-API-010)."},
        "If-None-Match": {"name": "If-None-Match", "in": "header", "required": False,
                          "schema": {"type": "string", "enum": ["*"]},
                          "description": "*: create only; 412 if the record exists, not deleted (PS-API-010)."},
    }


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _problems(*statuses: int) -> dict[str, Any]:
    """The problem responses of an operation: these statuses, then the ones any request may meet."""
    return {str(s): {"$ref": f"#/components/responses/{PROBLEMS[s][1]}"}
            for s in sorted({*statuses, *TRANSIENT})}


def _examples(message_type: str) -> dict[str, Any]:
    return {message_type: {"$ref": f"#/components/examples/{schema_name(message_type)}"}}


#: Every operation under /v1/councils takes a bearer token; health and capabilities take none.
_BEARER = [{"bearer": []}]


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _type_paths(message_type: str) -> dict[str, Any]:
    suffix, domain = operation_suffix(message_type), message_type.split(".")[0]
    base = f"/v1/councils/{{council}}/{api_path(message_type)}"
    message = {"schema": _ref(schema_name(message_type)), "examples": _examples(message_type)}
    collection = {
        "parameters": [_param("council")],
        "get": {
            "operationId": f"list{suffix}",
            "tags": [domain],
            "summary": f"List current {message_type} records, or their changes since a time",
            "description": "Without updated_since: the current records, no tombstones, ordered by id; paging by "
                           "cursor returns each record present throughout exactly once (PS-API-011). With "
                           "updated_since: the change feed (PS-API-012).",
            "security": _BEARER,
            "parameters": [_param("limit"), _param("cursor"), _param("updated_since")],
            "responses": {
                "200": {"description": "A page: follow next_cursor until a page has none; keep the watermark.",
                        "content": {JSON: {"schema": _ref(page_schema_name(message_type))}}},
                **_problems(400, 401, 403),
            },
            "x-plugshare-operations": ["list", "changes"],
        },
    }
    item = {
        "parameters": [_param("council"), _param("id")],
        "get": {
            "operationId": f"get{suffix}",
            "tags": [domain],
            "summary": f"Read one {message_type} record",
            "description": "The stored upsert message; 404 when the record is absent or deleted.",
            "security": _BEARER,
            "responses": {
                "200": {"description": "The stored message.", "headers": _header_refs("ETag"),
                        "content": {JSON: message}},
                **_problems(400, 401, 403, 404),
            },
            "x-plugshare-operations": ["get"],
        },
        "put": {
            "operationId": f"put{suffix}",
            "tags": [domain],
            "summary": f"Create or replace one {message_type} record",
            "description": "Idempotent upsert (PS-API-009). The body is validated like `plugshare validate` "
                           "(PS-API-004) and must be an upsert (PS-API-006) of this type (PS-API-005), with "
                           "data.id equal to {id} (PS-API-007) and council equal to {council} (PS-API-008). A "
                           "message equal after canonicalisation to the stored one changes nothing.",
            "security": _BEARER,
            "parameters": [_param("If-Match"), _param("If-None-Match")],
            "requestBody": {"required": True, "description": "One upsert message, at most max_message_bytes.",
                            "content": {JSON: message}},
            "responses": {
                "200": {"description": "Replaced, or unchanged: the stored message.",
                        "headers": _header_refs("ETag"), "content": {JSON: message}},
                "201": {"description": "Created (also after a delete): the stored message.",
                        "headers": _header_refs("ETag", "Location"), "content": {JSON: message}},
                **_problems(400, 401, 403, 405, 412, 413, 415, 422),
            },
            "x-plugshare-operations": ["upsert"],
        },
        "delete": {
            "operationId": f"delete{suffix}",
            "tags": [domain],
            "summary": f"Delete one {message_type} record",
            "description": "Stores a tombstone (a delete message the server makes) that the change feed returns; "
                           "404 when the record is absent or already deleted.",
            "security": _BEARER,
            "parameters": [_param("If-Match")],
            "responses": {
                "204": {"description": "Deleted: no body."},
                **_problems(400, 401, 403, 404, 405, 412),
            },
            "x-plugshare-operations": ["delete"],
        },
    }
    return {base: collection, f"{base}/{{id}}": item}


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/v1/health": {"get": {
            "operationId": "getHealth",
            "tags": [_PUBLIC_TAG],
            "summary": "Whether the server is up",
            "description": "For monitoring: needs no credential and says nothing of any council's data.",
            "security": [],
            "responses": {
                "200": {"description": "The server is up.",
                        "content": {JSON: {"schema": _ref("Health"), "example": {"status": "ok"}}}},
                **_problems(),
            },
        }},
        "/v1/capabilities": {"get": {
            "operationId": "getCapabilities",
            "tags": [_PUBLIC_TAG],
            "summary": "What the server is and does",
            "description": "Product, standard version, message types with their operations, features and limits "
                           "(PS-API-015, PS-API-016).",
            "security": [],
            "responses": {
                "200": {"description": "The capabilities document.",
                        "content": {JSON: {"schema": _ref("Capabilities"), "example": _capabilities_example()}}},
                **_problems(),
            },
        }},
        "/v1/councils/{council}/import": {
            "parameters": [_param("council")],
            "post": {
                "operationId": "importCouncil",
                "tags": [_BULK_TAG],
                "summary": "Load messages of any type in bulk",
                "description": "NDJSON in, one acknowledgement per non-blank line out, in input order, then a "
                               "summary line (PS-API-013). Upserts and delete messages of any type; a line that "
                               "is not a message, is longer than max_message_bytes, breaks a MUST requirement or "
                               "names another council is rejected and stores nothing. Each acknowledgement is "
                               "written after its record is committed; rerunning an import duplicates nothing. "
                               "The schemas below are those of one line. An answer looks like:\n\n" + _IMPORT_ANSWER,
                "security": _BEARER,
                "requestBody": {"required": True,
                                "description": "NDJSON: one message per line, each matching the schema; blank "
                                               "lines are ignored. At most max_import_bytes.",
                                "content": {NDJSON: {"schema": _ref("Message")}}},
                "responses": {
                    "200": {"description": "NDJSON: each line matches the schema, acknowledgements then the "
                                           "summary.",
                            "content": {NDJSON: {"schema": {"oneOf": [_ref("ImportAcknowledgement"),
                                                                      _ref("ImportSummary")]}}}},
                    **_problems(400, 401, 403, 405, 413, 415),
                },
            },
        },
        "/v1/councils/{council}/export": {
            "parameters": [_param("council")],
            "get": {
                "operationId": "exportCouncil",
                "tags": [_BULK_TAG],
                "summary": "Every current record of the council",
                "description": "NDJSON of every current (not deleted) record, ordered by type then id, equal after "
                               "canonicalisation to what was stored (PS-API-014). Importing it into another "
                               "server reproduces the council's data: this is the exit route. The schema below "
                               "is that of one line.",
                "security": _BEARER,
                "parameters": [_param("type")],
                "responses": {
                    "200": {"description": "NDJSON: one upsert message per line, each matching the schema.",
                            "content": {NDJSON: {"schema": {
                                "allOf": [_ref("Message")],
                                "properties": {"action": {"const": "upsert"}},
                            }}}},
                    **_problems(400, 401, 403),
                },
            },
        },
    }
    for message_type in sorted(MESSAGE_TYPES):
        paths.update(_type_paths(message_type))
    return paths


_IMPORT_ANSWER = (
    '```\n'
    '{"line":1,"status":"accepted","type":"hr.person","id":"E07000991-p00001",'
    '"message_id":"6f1c1d52-1b8e-4c55-9d1e-0d2f5a4b7c10","change":"created"}\n'
    '{"line":2,"status":"rejected","type":"hr.person","id":"E07000991-p00002",'
    '"errors":[{"requirement":"PS-ID-001","pointer":"/data/ni_number","reason":"not a valid NI number"}]}\n'
    '{"summary":{"lines":2,"accepted":1,"rejected":1}}\n'
    '```'
)


def _capabilities_example() -> dict[str, Any]:
    return {
        "product": {"name": "plugshare reference server", "version": "1.0.0", "supplier": "plugshare"},
        "standard_version": STANDARD_VERSION,
        "read_only": False,
        "message_types": [{"type": t, "operations": list(OPERATIONS)} for t in sorted(MESSAGE_TYPES)],
        "features": list(FEATURES),
        "limits": {"default_page_size": 100, "max_page_size": 1000, "max_message_bytes": 1048576,
                   "max_import_bytes": 268435456},
    }


def _message_examples() -> dict[str, Any]:
    """One published example message per type (as spec/examples/valid/<type>.json), for the record paths."""
    return {schema_name(t): {"summary": f"A {t} message (synthetic data)", "value": example_message(t)}
            for t in sorted(MESSAGE_TYPES)}


_SERVERS = [
    {"url": "https://{host}", "description": "A server of the standard; every path starts with /v1.",
     "variables": {"host": {"default": "plugshare.example", "description": "The server's host name and port."}}},
    {"url": "http://127.0.0.1:8080", "description": "The reference server as `plugshare serve` runs it locally."},
]

_DESCRIPTION = (
    "The REST API of the plugshare standard: one council's records of each message type, read, written, "
    "followed through a change feed, and loaded or handed back in bulk. Bodies are plugshare messages, validated "
    "exactly as `plugshare validate` does; errors are RFC 9457 problems. Section 13 of spec/README.md is the "
    "normative text; requirements PS-API-001 to PS-API-017 are in spec/requirements.json."
)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the REST API, as data."""
    tags = [{"name": _PUBLIC_TAG, "description": "Health and capabilities: no credential needed."}]
    tags += [{"name": domain, "description": text} for domain, text in DOMAINS.items()]
    tags.append({"name": _BULK_TAG, "description": "Import and export of a council's messages as NDJSON."})
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "plugshare REST API",
            "version": STANDARD_VERSION,
            "description": _DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "jsonSchemaDialect": DIALECT,
        "servers": _SERVERS,
        "security": _BEARER,
        "tags": tags,
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "psk_<token id>_<secret>",
                "description": "A token bound to a set of councils (PS-API-002, PS-API-003).",
            }},
            "parameters": _parameters(),
            "headers": _headers(),
            "responses": _problem_responses(),
            "examples": _message_examples(),
            "schemas": components_schemas(),
        },
    }
    # A tree with no shared nodes: YAML then writes no anchors, and callers may change their copy.
    return json.loads(json.dumps(document))


def render_openapi() -> str:
    """spec/openapi.yaml's text: the same document gives the same bytes."""
    return yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True, width=120)
