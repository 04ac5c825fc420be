"""What every message shares: the envelope, record identity, extensions, addresses.

A message is a CloudEvents 1.0 event in structured JSON mode. Its ``data`` is a
record: one person, one payslip, one property. Every record has a stable ``id``,
the ids it has in source systems (``source_ids``), and one ``extensions``
object where councils and vendors keep local fields under a namespace, so that
local variation never bends the common fields.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from plugshare.models.types import (
    CouncilCode,
    Date,
    Extensions,
    Postcode,
    RecordId,
    SchemaVersion,
    Timestamp,
    Uprn,
    Usrn,
)

TYPE_PREFIX = "uk.plugshare."


class Canonical(BaseModel):
    """Base of every model: unknown fields are refused, never kept silently."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)


class Identifier(Canonical):
    """An id a record has in some system: HR Open's ``{scheme, value}``."""

    scheme: str = Field(
        min_length=1, max_length=100,
        description="Who issued the value, e.g. a vendor system (\"hr-flatfile\"), a council's GSS code, "
                    "or a public scheme (\"uprn\", \"voa-uarn\").",
    )
    value: str = Field(min_length=1, max_length=200, description="The id within that scheme.")


class Record(Canonical):
    """Fields every record carries."""

    #: the message type short name, e.g. ``hr.person``; set on each concrete record
    message_type: ClassVar[str]

    id: RecordId = Field(description="The record's stable id in the standard.")
    source_ids: list[Identifier] = Field(
        default_factory=list,
        description="The ids this record has in source systems (payroll number, vendor key...).",
    )
    extensions: Extensions = Field(
        default_factory=dict,
        description="Local and vendor fields, one object per namespace.",
    )


class Nation(str, Enum):
    ENGLAND = "england"
    WALES = "wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern_ireland"


class Address(Canonical):
    """A BS7666-style address: secondary and primary addressable objects, street, locality, town."""

    saon: str | None = Field(None, max_length=100, description="Secondary addressable object: flat, unit.")
    paon: str | None = Field(None, max_length=100, description="Primary addressable object: number or name.")
    street: str | None = Field(None, max_length=100)
    locality: str | None = Field(None, max_length=100)
    town: str | None = Field(None, max_length=100)
    administrative_area: str | None = Field(None, max_length=100, description="County or council area.")
    postcode: Postcode | None = None
    country: str = Field("GB", pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2; GB unless overseas.")
    uprn: Uprn | None = None
    usrn: Usrn | None = None


class PropertyAddress(Address):
    """The address of a rateable or banded property: it always has its UPRN."""

    uprn: Uprn


class PersonName(Canonical):
    title: str | None = Field(None, max_length=35)
    given_name: str = Field(min_length=1, max_length=35)
    middle_names: str | None = Field(None, max_length=70)
    family_name: str = Field(min_length=1, max_length=35)
    preferred_name: str | None = Field(None, max_length=35)


class Action(str, Enum):
    UPSERT = "upsert"
    DELETE = "delete"


class Period(Canonical):
    """A span of days, both ends included; an open end means still running."""

    start: Date
    end: Date | None = None


ENVELOPE_DESCRIPTION = (
    "A plugshare message: a CloudEvents 1.0 event in structured JSON mode whose data is one record. "
    "Extension attributes: council (the owning council's GSS code), action (upsert or delete) and "
    "schemaversion (the version of the standard the message follows)."
)


def envelope_rules(type_name: str) -> dict[str, Any]:
    """JSON Schema for what per-field types cannot say: attribute names, and data/subject by action."""
    return {
        "x-requirement": "PS-ENV-004",
        "propertyNames": {"title": "CloudEvents attribute name (lower-case letters and digits, at most 20)",
                          "pattern": "^[a-z0-9]{1,20}$", "x-requirement": "PS-ENV-004"},
        "allOf": [
            {"if": {"properties": {"action": {"const": "upsert"}}, "required": ["action"]},
             "then": {"required": ["data"], "x-requirement": "PS-ENV-006"}},
            {"if": {"properties": {"action": {"const": "delete"}}, "required": ["action"]},
             "then": {"required": ["subject"], "x-requirement": "PS-ENV-007"}},
        ],
    }


class Envelope(Canonical):
    """The CloudEvents attributes and plugshare's extension attributes.

    Other CloudEvents extension attributes (lower-case letters and digits, such as
    ``traceparent``) may be present and are kept; consumers ignore those they do not know.
    """

    model_config = ConfigDict(extra="allow", use_enum_values=True, title="Envelope")

    specversion: Literal["1.0"] = Field(description="CloudEvents specification version.")
    id: str = Field(min_length=1, max_length=200,
                    description="Unique per source: a repeated id from the same source is the same message.")
    source: str = Field(min_length=1, max_length=500,
                        description="URI-reference of the system that produced the message, "
                                    "e.g. \"urn:plugshare:E07000991:payroll\".")
    time: Timestamp
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = Field(None, description="The $id of the schema the data follows.")
    subject: str | None = Field(None, max_length=200,
                                description="The id of the record; required when action is delete.")
    council: CouncilCode
    action: Action
    schemaversion: SchemaVersion
