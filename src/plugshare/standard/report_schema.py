"""The JSON Schema of a conformance report (report.json), published as spec/conformance/report.schema.json.

A buyer's or a CI system's tooling reads report.json without running the suite, so its form is part of the
standard: the schema is versioned with it and generated here, like the message schemas, by
``plugshare spec export``. The verdict vocabulary is repeated here rather than imported because the
standard layer must not depend on the conformance suite; a test keeps the two equal.
"""

from __future__ import annotations

import json
from typing import Any

from plugshare.models.version import STANDARD_VERSION, schema_id

#: Where the schema is published, relative to spec/.
REPORT_SCHEMA_FILE = "conformance/report.schema.json"
REPORT_SCHEMA_ID = schema_id("conformance-report.json")
DIALECT = "https://json-schema.org/draft/2020-12/schema"

VERDICTS = ("pass", "fail", "warning", "skipped", "not_applicable", "error")
#: "conforms" only for a complete run in which every MUST check passed or did not apply and each profile had
#: at least one MUST check pass; "incomplete" for a selection of checks (--only, --rerun-failed) in which none
#: failed; "does_not_conform" otherwise.
OVERALL_VERDICTS = ("conforms", "does_not_conform", "incomplete")

_TEXT_OR_NULL = {"type": ["string", "null"]}
_IDS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_CHECK_ID = {"type": "string", "pattern": "^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"}


def _object(properties: dict[str, Any], required: list[str] | None = None, description: str = "",
            closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    schema["required"] = list(properties) if required is None else required
    schema["properties"] = properties
    schema["additionalProperties"] = not closed
    return schema


_DEFS: dict[str, Any] = {
    "verdict": {"enum": list(VERDICTS), "description": (
        "pass; fail (a MUST check found the target at fault); warning (a SHOULD check did); skipped (could "
        "not run, with a reason: fails a MUST); not_applicable (with a reason); error (the check crashed or "
        "the target broke the conversation).")},
    "overall": {"enum": list(OVERALL_VERDICTS), "description": (
        "conforms: a complete run in which no MUST check failed, erred or was skipped, and each chosen profile "
        "had at least one MUST check pass; incomplete: only a selection of checks was run and none failed; "
        "does_not_conform: otherwise.")},
    "counts": _object({v: {"type": "integer", "minimum": 0} for v in VERDICTS},
                      description="How many checks reached each verdict."),
    "headers": {"type": "object", "additionalProperties": {"type": "string"},
                "not": {"anyOf": [{"required": ["authorization"]}, {"required": ["Authorization"]}]}},
    "exchange": _object({
        "method": {"type": "string"},
        "url": {"type": "string"},
        "request_headers": {"$ref": "#/$defs/headers"},
        "request_excerpt": {"type": "string"},
        "status": {"type": ["integer", "null"]},
        "response_headers": {"$ref": "#/$defs/headers"},
        "response_excerpt": {"type": "string"},
        "elapsed_ms": {"type": ["number", "null"]},
    }, description="One HTTP request and its response, masked, bodies cut to an excerpt; never a token."),
    "finding": _object({
        "message": {"type": "string"},
        "expected": _TEXT_OR_NULL,
        "actual": _TEXT_OR_NULL,
        "requirement": _TEXT_OR_NULL,
        "exchange": {"oneOf": [{"$ref": "#/$defs/exchange"}, {"type": "null"}]},
    }, description="One thing a check found wrong: expected against actual, and the exchange that showed it."),
    "result": _object({
        "id": _CHECK_ID,
        "title": {"type": "string"},
        "level": {"enum": ["MUST", "SHOULD"]},
        "requirements": _IDS,
        "profiles": _IDS,
        "source": {"type": "string", "description": "The plugin that registered the check."},
        "verdict": {"$ref": "#/$defs/verdict"},
        "summary": {"type": "string"},
        "reason": {**_TEXT_OR_NULL, "description": "Why the check was skipped, not applicable or in error."},
        "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
        "duration_ms": {"type": "number", "minimum": 0},
    }),
    "readiness": _object({
        "check": {"type": "string"},
        "need": {"type": "string"},
        "met": {"type": "boolean"},
        "detail": _TEXT_OR_NULL,
    }, description="One need of a check (data of a type, a second council, a writable target) and whether the "
                   "target met it before the run."),
    "retry": _object({
        "method": {"type": "string"},
        "path": {"type": "string"},
        "status": {"type": "integer"},
        "error": {"type": "string"},
        "delay": {"type": "number"},
    }, required=[], closed=False, description="One retry the client made."),
    "settings": _object({
        "timeout_seconds": {"type": ["number", "null"]},
        "bulk_timeout_seconds": {"type": ["number", "null"],
                                 "description": "How long imports and exports could take to deliver their data."},
        "retries": {"type": ["integer", "null"]},
        "backoff_seconds": {"type": ["number", "null"]},
        "page_size": {"type": ["integer", "null"]},
        "retry_log": {"type": "array", "items": {"$ref": "#/$defs/retry"}},
    }, description="How the run talked to the target: every result was obtained under these."),
    "target": {
        **_object({
            "kind": {"enum": ["api", "adapter"]},
            "url": {"type": "string"},
            "councils": _IDS,
            "adapter": {"type": "string"},
            "options": _IDS,
        }, required=["kind"], closed=False,
            description="What was tested: an API's URL and councils, or an adapter's key and option names."),
        "not": {"anyOf": [{"required": ["token"]}, {"required": ["tokens"]}]},
    },
    "profile_summary": _object({
        "profile": {"type": "string"},
        "declared": {"type": "boolean", "description": "The target claims this profile."},
        "verdict": {"$ref": "#/$defs/overall"},
        "reason": {**_TEXT_OR_NULL, "description": "Why the profile does not conform or is incomplete, in plain "
                                                   "words; null when it conforms."},
        "counts": {"$ref": "#/$defs/counts"},
        "checks": _IDS,
    }),
    "requirement_summary": _object({
        "requirement": {"type": "string"},
        "level": {"enum": ["MUST", "SHOULD", None]},
        "text": _TEXT_OR_NULL,
        "verdict": {"$ref": "#/$defs/verdict"},
        "checks": {"type": "array", "items": _object({"id": _CHECK_ID, "verdict": {"$ref": "#/$defs/verdict"}})},
        "findings": {"type": "integer", "minimum": 0,
                     "description": "How many findings name this requirement."},
    }, description="A requirement the run verified: its checks' verdicts; the worst is the requirement's."),
}

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": REPORT_SCHEMA_ID,
    "title": "plugshare conformance report",
    "description": (
        f"What a run of the plugshare conformance suite found (standard {STANDARD_VERSION}): the target, the "
        "profiles, the settings, each check's verdict with its evidence, and the overall verdict. Personal "
        "data is masked and tokens never appear."),
    **_object({
        "$schema": {"type": "string"},
        "suite_version": {"type": "string", "minLength": 1},
        "standard_version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time"},
        "target": {"$ref": "#/$defs/target"},
        "profiles": {**_IDS, "description": "The profiles chosen for this run."},
        "declared_profiles": {**_IDS, "description": "The profiles the target claims."},
        "complete": {"type": "boolean", "description": "Every check of the chosen profiles was run."},
        "selected": {**_IDS, "description": "The check ids asked for (--only, --rerun-failed); empty when "
                                            "complete."},
        "settings": {"$ref": "#/$defs/settings"},
        "declaration": {"type": ["object", "null"]},
        "declaration_sha256": {"oneOf": [{"type": "string", "pattern": "^[0-9a-f]{64}$"}, {"type": "null"}]},
        "readiness": {"type": "array", "items": {"$ref": "#/$defs/readiness"}},
        "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
        "counts": {"$ref": "#/$defs/counts"},
        "profile_summaries": {"type": "array", "items": {"$ref": "#/$defs/profile_summary"}},
        "requirement_summaries": {"type": "array", "items": {"$ref": "#/$defs/requirement_summary"}},
        "verdict": {"$ref": "#/$defs/overall"},
        "exit_code": {"enum": [0, 1]},
    }, required=["suite_version", "standard_version", "started_at", "finished_at", "target", "profiles",
                 "declared_profiles", "complete", "selected", "settings", "declaration", "declaration_sha256",
                 "readiness", "results", "counts", "profile_summaries", "requirement_summaries", "verdict",
                 "exit_code"]),
    "$defs": _DEFS,
}


def render_report_schema() -> str:
    """The published text of the schema."""
    return json.dumps(REPORT_SCHEMA, indent=2, ensure_ascii=False) + "\n"
