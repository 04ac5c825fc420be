"""The version of the standard these models define (semantic versioning; see spec/VERSIONING.md)."""

STANDARD_VERSION = "1.0.0"
STANDARD_MAJOR = STANDARD_VERSION.split(".")[0]
