"""The version of the standard these models define (semantic versioning; see spec/VERSIONING.md)."""

STANDARD_VERSION = "1.0.0"
STANDARD_MAJOR = STANDARD_VERSION.split(".")[0]

#: Base of the published schema ids: every file's $id carries the full version.
SCHEMA_BASE = f"https://plugshare.uk/schemas/{STANDARD_VERSION}/"


def schema_id(file_name: str) -> str:
    """The $id of a published schema file, e.g. ``schema_id("hr.person.json")``."""
    return SCHEMA_BASE + file_name
