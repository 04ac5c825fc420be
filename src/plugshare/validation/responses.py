"""Check an HTTP response against the published OpenAPI document of the REST API.

The server's tests and the conformance suite ask one question of every response:
does it conform to ``spec/openapi.yaml``, the file suppliers download? The answer
is a list of violations in plain words, empty when it conforms. Bodies are
validated with JSON Schema 2020-12 through a ``referencing`` registry holding the
document, so ``#/components/schemas/X`` resolves to the published message
schemas. Violations never show personal data and quote at most 200 characters.

Beyond the shapes, a response is held to what one response can show of the
contract: a success for a request whose path or query parameters break their
schemas (it should have been refused), a problem whose ``instance`` is not the
request path, an ``Allow`` naming methods the path does not take, an import
answer whose acknowledgements are out of order or whose summary is missing,
misplaced or miscounted, an export out of type-then-id order or of a type not
asked for, and a list page longer than ``limit`` or, without ``updated_since``,
holding tombstones or out of id order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from plugshare.models import record_key
from plugshare.standard.paths import spec_dir
from plugshare.validation.schemas import SENSITIVE_FIELDS, pointer_of, reason_for

if TYPE_CHECKING:
    import httpx

OPENAPI_FILE = "openapi.yaml"
#: The document's address in the registry: its schemas refer to each other as "#/components/...".
DOCUMENT_URI = "https://plugshare.uk/openapi/openapi.json"
QUOTE_LIMIT = 200
#: At most this many violations of one body are listed (a stream may have thousands of bad lines).
MAX_BODY_VIOLATIONS = 20
WITHHELD = "(withheld: personal data)"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Keywords whose reason ``validation.schemas.reason_for`` words well and safely.
_WORDED = {"required", "additionalProperties", "type", "enum", "const", "pattern", "format", "minimum", "maximum",
           "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems"}


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: WITHHELD if key in SENSITIVE_FIELDS else _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def quote(value: Any) -> str:
    """A value as a violation may show it: personal data withheld, at most 200 characters."""
    text = json.dumps(_masked(value), ensure_ascii=False)
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 3] + "..."


#: Shaped like an NI number, a bank account number or a date: never quoted from text that is not JSON.
_PERSONAL_SHAPES = re.compile(
    r"\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b|\b[0-9]{8}\b|\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b")


def _quote_text(text: str) -> str:
    """Text that is not JSON, so has no fields to mask: not shown when it may hold personal data."""
    if any(name in text for name in SENSITIVE_FIELDS) or _PERSONAL_SHAPES.search(text):
        return "(not shown: it may hold personal data)"
    return quote(text)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class ResponseChecker:
    """Whether responses conform to an OpenAPI 3.1 document (by default the published one)."""

    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        self.registry: Registry = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012))
        self._templates = [(template, template.removeprefix("/").split("/"), item)
                           for template, item in (document.get("paths") or {}).items()]
        self._validators: dict[str, Draft202012Validator] = {}

    @classmethod
    def published(cls) -> ResponseChecker:
        """The checker of spec/openapi.yaml, the document suppliers download (loaded once)."""
        return _published()

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ResponseChecker:
        return cls(document)

    # -- the document -------------------------------------------------------------------------------------

    def _resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """An OpenAPI object with its ``$ref`` (if any) followed, and the JSON pointer where it is."""
        seen = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            pointer = node["$ref"][1:]
            if pointer in seen:
                raise ValueError(f"reference cycle at {pointer}")
            seen.add(pointer)
            node = self.document
            for token in pointer.lstrip("/").split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def _validator(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at this pointer of the document, its references resolved in the document."""
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validators[pointer]

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The path template a request path falls under, with its parameters; literal segments win."""
        segments = urlsplit(path).path.removeprefix("/").split("/")
        best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
        for template, parts, _ in self._templates:
            if len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            for part, segment in zip(parts, segments, strict=True):
                if part.startswith("{") and part.endswith("}"):
                    if not segment:
                        break
                    params[part[1:-1]] = unquote(segment)
                elif part != segment:
                    break
            else:
                rank = tuple(1 if part.startswith("{") else 0 for part in parts)
                if best is None or rank < best[0]:
                    best = (rank, template, params)
        return None if best is None else (best[1], best[2])

    # -- checking ------------------------------------------------------------------------------------------

    def check(self, method: str, path: str, status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Every way this response breaks the document; an empty list when it conforms.

        ``path`` is the request target as sent (percent-encoded, with its query if any). A path no
        template matches conforms only as the document's 404 problem, and a method its path does
        not declare only as its 405 problem (with Allow). HEAD is checked as GET without a body. A
        success for a request whose path or query parameters break their schemas is a violation:
        the request should have been refused.
        """
        target = urlsplit(path)
        method, path = method.upper(), target.path
        where = f"{method} {path} -> {status}"
        headers = {name.lower(): value for name, value in headers.items()}
        query = parse_qs(target.query, keep_blank_values=True)
        found = self.match(path)
        if found is None:
            not_found = self._fallback_response("404")
            if status == 404 and not_found is not None:
                return [f"{where}: {v}" for v in self._check_response(not_found, headers, body, method, path)]
            return [f"{where}: no path of the API matches {quote(path)}"]
        template, params = found
        path_item, item_pointer = self._resolve(self.document["paths"][template], "/paths/" + _escape(template))
        operation_method = "get" if method == "HEAD" and "head" not in path_item else method.lower()
        operation = path_item.get(operation_method) if operation_method in METHODS else None
        violations: list[str] = []
        if status == 405:
            violations += self._check_allow(path_item, headers)
        if operation is None:
            declared = sorted(m.upper() for m in path_item if m in METHODS)
            allowed = self._fallback_response("405")
            if status == 405 and allowed is not None:
                violations += self._check_response(allowed, headers, body, method, path)
                return [f"{where}: {v}" for v in violations]
            return [f"{where}: {method} is not declared for {template} (declared: {', '.join(declared)})"]

        if status < 400:
            violations += self._check_parameters(path_item, operation, item_pointer, operation_method, params, query)
        responses = operation.get("responses") or {}
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
        if key is None:
            violations.append(f"status {status} is not declared for {method} {template} "
                              f"(declared: {', '.join(responses)})")
        else:
            response = self._resolve(responses[key], f"{item_pointer}/{operation_method}/responses/{key}")
            found_violations = self._check_response(response, headers, body, method, path)
            violations += found_violations
            if not found_violations and 200 <= status < 300 and method != "HEAD":
                violations += _contract_violations(operation.get("operationId"), query, body)
        return [f"{where}: {v}" for v in violations]

    def check_httpx(self, response: httpx.Response) -> list[str]:
        """``check`` for an httpx response (read in full), taking the method and target from its request."""
        import httpx

        try:
            body = response.content
        except httpx.ResponseNotRead:
            body = response.read()
        request = response.request
        target = request.url.raw_path.decode("ascii")
        return self.check(request.method, target, response.status_code, response.headers, body)

    def _fallback_response(self, status: str) -> tuple[Any, str] | None:
        """The document's shared response for a status (its 404 for unknown paths, its 405 for other methods)."""
        for name, response in ((self.document.get("components") or {}).get("responses") or {}).items():
            resolved = self._resolve(response, f"/components/responses/{_escape(name)}")
            for media in (resolved[0].get("content") or {}).values():
                schema, _ = self._resolve(media.get("schema") or {}, "")
                status_schema = (schema.get("properties") or {}).get("status") or {}
                if str(status_schema.get("const")) == status:
                    return resolved
        return None

    def _check_parameters(self, path_item, operation, item_pointer: str, method: str,
                          values: dict[str, str], query: dict[str, list[str]]) -> list[str]:
        """A successful response to a request whose parameters break their schemas should have been refused."""
        out = []
        declared = [(p, f"{item_pointer}/parameters/{i}") for i, p in enumerate(path_item.get("parameters") or [])]
        declared += [(p, f"{item_pointer}/{method}/parameters/{i}")
                     for i, p in enumerate(operation.get("parameters") or [])]
        for raw, pointer in declared:
            parameter, pointer = self._resolve(raw, pointer)
            where, name = parameter.get("in"), parameter.get("name")
            if "schema" not in parameter or where not in ("path", "query"):
                continue
            if where == "path":
                if name not in values:
                    continue
                value: Any = values[name]
            else:
                given = query.get(name)
                if given is None:
                    if parameter.get("required"):
                        out.append(f"required query parameter {name} is missing but the request was not refused")
                    continue
                schema, _ = self._resolve(parameter["schema"], pointer + "/schema")
                if schema.get("type") == "array":
                    item_schema, _ = self._resolve(schema.get("items") or {}, pointer + "/schema/items")
                    value = [_typed(text, item_schema) for text in given]
                elif len(given) > 1:
                    out.append(f"query parameter {name} is given {len(given)} times but the request was not refused")
                    continue
                else:
                    value = _typed(given[0], schema)
            error = best_match(self._validator(pointer + "/schema").iter_errors(value))
            if error is not None:
                out.append(f"{where} parameter {name} {quote(value)} breaks its schema "
                           f"({_reason(error, '')}) but the request was not refused")
        return out

    def _check_allow(self, path_item: Mapping[str, Any], headers: dict[str, str]) -> list[str]:
        """A 405's Allow names only methods the path takes (HEAD and OPTIONS are always the server's to offer)."""
        allow = headers.get("allow")
        if allow is None:
            return []
        declared = {m.upper() for m in path_item if m in METHODS} | {"HEAD", "OPTIONS"}
        extra = [m for m in (part.strip().upper() for part in allow.split(",")) if m and m not in declared]
        return [f"Allow names {', '.join(extra)}, which the path does not take"] if extra else []

    def _check_response(self, resolved: tuple[Any, str], headers: dict[str, str], body: bytes,
                        method: str, path: str) -> list[str]:
        response, pointer = resolved
        out = []
        for name, raw in (response.get("headers") or {}).items():
            header, header_pointer = self._resolve(raw, f"{pointer}/headers/{_escape(name)}")
            value = headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    out.append(f"missing required header {name}")
                continue
            if "schema" in header:
                error = best_match(self._validator(header_pointer + "/schema").iter_errors(value))
                if error is not None:
                    out.append(f"header {name} {quote(value)} breaks its schema ({_reason(error, '')})")
        content = response.get("content") or {}
        if not content:
            if body.strip():
                out.append(f"expected no body, got {len(body)} bytes")
            return out
        content_type = headers.get("content-type")
        if content_type is None:
            return [*out, f"missing Content-Type (declared: {', '.join(content)})"]
        declared = {_media_type(media): media for media in content}
        media = declared.get(_media_type(content_type))
        if media is None:
            return [*out, f"Content-Type {quote(content_type)} is not declared (declared: {', '.join(content)})"]
        if method == "HEAD" or "schema" not in content[media]:
            return out
        schema_pointer = f"{pointer}/content/{_escape(media)}/schema"
        media_type = _media_type(media)
        if media_type == "application/x-ndjson":
            out += self._check_lines(body, schema_pointer)
        elif media_type == "application/json" or media_type.endswith("+json"):
            out += self._check_json(body, schema_pointer)
            if media_type == PROBLEM_MEDIA_TYPE:
                out += _instance_violations(body, path)
        return out

    def _check_json(self, body: bytes, schema_pointer: str) -> list[str]:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            return [f"body is not JSON ({error.__class__.__name__}): {_quote_text(body.decode('utf-8', 'replace'))}"]
        return [f"body {v}" for v in self._schema_violations(document, schema_pointer)][:MAX_BODY_VIOLATIONS]

    def _check_lines(self, body: bytes, schema_pointer: str) -> list[str]:
        out: list[str] = []
        failing = 0
        for number, line in enumerate(body.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except (UnicodeDecodeError, ValueError) as error:
                found = [f"is not JSON ({error.__class__.__name__}): "
                         f"{_quote_text(line.decode('utf-8', 'replace'))}"]
            else:
                found = self._schema_violations(item, schema_pointer)
            if found:
                failing += 1
                if len(out) < MAX_BODY_VIOLATIONS:
                    out += [f"line {number} {v}" for v in found[:3]]
        if failing and len(out) >= MAX_BODY_VIOLATIONS:
            out.append(f"{failing} lines in all break the schema")
        return out

    def _schema_violations(self, instance: Any, schema_pointer: str) -> list[str]:
        errors = sorted(self._validator(schema_pointer).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return list(dict.fromkeys(_describe(error) for error in errors))


def _typed(text: str, schema: Mapping[str, Any]) -> Any:
    """A query value as the type its schema wants, when it reads as one (else the text, which then fails)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _instance_violations(body: bytes, path: str) -> list[str]:
    """PS-API-001: a problem's instance is the path of the request it answers."""
    try:
        problem = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return []
    instance = problem.get("instance") if isinstance(problem, dict) else None
    if not isinstance(instance, str) or instance in (path, unquote(path)):
        return []
    return [f"problem instance {quote(instance)} is not the request path {quote(unquote(path))}"]


def _json_lines(body: bytes) -> list[tuple[int, Any]]:
    """(line number, value) of each non-blank line (all of them JSON: the schema check has passed)."""
    return [(number, json.loads(line)) for number, line in enumerate(body.split(b"\n"), start=1) if line.strip()]


def _contract_violations(operation_id: Any, query: dict[str, list[str]], body: bytes) -> list[str]:
    """What one successful response of a plugshare operation can show of the contract beyond its schema."""
    if operation_id == "importCouncil":
        return _import_violations(_json_lines(body))
    if operation_id == "exportCouncil":
        return _export_violations(_json_lines(body), set(query.get("type", [])))
    if isinstance(operation_id, str) and operation_id.startswith("list"):
        try:
            page = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return []
        if isinstance(page, dict) and isinstance(page.get("items"), list):
            return _page_violations(page["items"], query)
    return []


def _import_violations(lines: list[tuple[int, Any]]) -> list[str]:
    """PS-API-013: acknowledgements in input order, then exactly one summary that counts them."""
    if not lines:
        return ["the import answer is empty: it ends with a summary line"]
    summaries = [number for number, entry in lines if isinstance(entry, dict) and "summary" in entry]
    if summaries != [lines[-1][0]]:
        where = ", ".join(f"line {n}" for n in summaries) or "none"
        return [f"the import answer has one summary line, its last (found: {where})"]
    acks = [entry for _, entry in lines[:-1]]
    out = []
    numbers = [ack.get("line") for ack in acks]
    if any(not isinstance(a, int) or not isinstance(b, int) or a >= b for a, b in pairwise(numbers)):
        out.append("acknowledgements are not in input order (their line numbers do not increase)")
    summary = lines[-1][1]["summary"]
    counted = {"lines": len(acks), "accepted": sum(a.get("status") == "accepted" for a in acks),
               "rejected": sum(a.get("status") == "rejected" for a in acks)}
    wrong = [f"{key} {summary.get(key)} (counted {count})" for key, count in counted.items()
             if summary.get(key) != count]
    if wrong:
        out.append(f"the summary does not count the acknowledgements: {', '.join(wrong)}")
    return out


def _export_violations(lines: list[tuple[int, Any]], asked: set[str]) -> list[str]:
    """PS-API-014: every current record once, ordered by type then id, of the types asked for."""
    out, previous = [], None
    for number, message in lines:
        key = record_key(message)
        if key is None:
            continue
        if asked and key[0] not in asked:
            out.append(f"line {number} is a {key[0]} message, a type not asked for")
        if previous is not None and key <= previous:
            out.append(f"line {number} is {'a repeat' if key == previous else 'out of order'}: an export is "
                       "ordered by type then id, each record once")
        previous = key
        if len(out) >= MAX_BODY_VIOLATIONS:
            break
    return out


def _page_violations(items: list[Any], query: dict[str, list[str]]) -> list[str]:
    """PS-API-011 and PS-API-016: at most limit items; a list (no updated_since) is current records by id."""
    out = []
    limit = query.get("limit", [""])[-1]
    if limit.isdigit() and len(items) > int(limit):
        out.append(f"the page holds {len(items)} items, more than limit={limit}")
    if "updated_since" in query:
        return out
    keys = [record_key(item) for item in items]
    if any(isinstance(item, dict) and item.get("action") == "delete" for item in items):
        out.append("a list without updated_since holds a tombstone: it returns current records only")
    ids = [key[1] for key in keys if key is not None]
    if any(a >= b for a, b in pairwise(ids)):
        out.append("a list without updated_since is ordered by record id, each record once")
    return out


def _describe(error: ValidationError) -> str:
    """One schema failure in plain words, descending into the alternative the value was meant to be."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        chosen = _chosen_alternative(error)
        if isinstance(chosen, list):
            return "; ".join(_describe(e) for e in chosen[:3])
        if chosen is not None:
            return chosen
    pointer = pointer_of(error.absolute_path)
    requirement = error.schema.get("x-requirement") if isinstance(error.schema, dict) else None
    prefix = f"[{requirement}] " if requirement else ""
    return f"{prefix}at {pointer or '/'}: {_reason(error, pointer)}"


def _chosen_alternative(error: ValidationError) -> list[ValidationError] | str | None:
    """The errors of the one alternative a value was meant to match, or why it matches none.

    An alternative is ruled out by a constant it does not have (a message's ``type``). When one
    alternative is left, or one has fewer errors than all others, its errors are the useful ones.
    """
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    branches = len(by_branch)

    def ruled_out(subs: Iterable[ValidationError]) -> list[str]:
        return [pointer_of(s.relative_path) for s in subs if s.validator == "const" and len(s.relative_path) == 1]

    left = {branch: subs for branch, subs in by_branch.items() if not ruled_out(subs)}
    if not left:
        keys = [set(ruled_out(subs)) for subs in by_branch.values()]
        common = set.intersection(*keys) if keys else set()
        if common and isinstance(error.instance, dict):
            key = sorted(common)[0]
            allowed = sorted({s.validator_value for subs in by_branch.values() for s in subs
                              if s.validator == "const" and pointer_of(s.relative_path) == key}, key=str)
            shown = ", ".join(json.dumps(a) for a in allowed[:8]) + (", ..." if len(allowed) > 8 else "")
            value = error.instance.get(key.lstrip("/"))
            at = pointer_of([*error.absolute_path, key.lstrip("/")])
            return f"at {at}: {quote(value)} is not one of {shown}"
        left = by_branch
    if len(left) == 1:
        return next(iter(left.values()))
    fewest = min(len(subs) for subs in left.values())
    best = [subs for subs in left.values() if len(subs) == fewest]
    if len(best) == 1:
        return best[0]
    example = best_match(error.context)
    return (f"at {pointer_of(error.absolute_path) or '/'}: matches none of the {branches} alternatives; "
            f"for one: {_describe(example)}" if example is not None else None)


def _reason(error: ValidationError, pointer: str) -> str:
    """Why a value fails, without personal data and within the quoting limit."""
    last = pointer.rsplit("/", 1)[-1]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"missing required field{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
    if error.validator in _WORDED:
        return reason_for(error, pointer)
    if last in SENSITIVE_FIELDS:
        return f"the value {WITHHELD} breaks '{error.validator}'"
    return f"{quote(error.instance)} breaks '{error.validator}' ({quote(error.validator_value)})"


@cache
def _published() -> ResponseChecker:
    path = spec_dir() / OPENAPI_FILE
    return ResponseChecker(yaml.safe_load(path.read_text(encoding="utf-8")))
