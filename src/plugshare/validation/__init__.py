"""Validation of messages against the published standard: reading, schema checks, rules, reports."""

from plugshare.validation.problems import Location, MessageReport, Problem
from plugshare.validation.reader import Entry, InputError, expand, read_path
from plugshare.validation.validator import MessageValidator, validate_entries

__all__ = ["Entry", "InputError", "Location", "MessageReport", "MessageValidator", "Problem", "expand",
           "read_path", "validate_entries"]
