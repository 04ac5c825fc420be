"""The canonical models of the standard, one module per domain.

``MESSAGE_TYPES`` maps each message type's short name (``hr.person``) to its
record model; ``message_model`` gives the typed CloudEvents envelope around it,
from which the published schema of that message type is generated.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import Field, create_model

from plugshare.models import hr, payroll, revenues
from plugshare.models.common import TYPE_PREFIX, Envelope, Record, envelope_rules
from plugshare.models.version import STANDARD_VERSION

RECORD_MODELS: tuple[type[Record], ...] = (
    hr.Person,
    hr.Employment,
    hr.Position,
    hr.OrgUnit,
    hr.Absence,
    payroll.PayRun,
    payroll.Payslip,
    payroll.TaxDetails,
    payroll.BankAccount,
    payroll.PensionMembership,
    revenues.Property,
    revenues.CouncilTaxAccount,
    revenues.CouncilTaxBill,
    revenues.Payment,
    revenues.BusinessRatesHereditament,
    revenues.BusinessRatesAccount,
)

MESSAGE_TYPES: dict[str, type[Record]] = {model.message_type: model for model in RECORD_MODELS}


def cloudevents_type(message_type: str) -> str:
    """``hr.person`` -> ``uk.plugshare.hr.person``."""
    return TYPE_PREFIX + message_type


def message_type_of(ce_type: str) -> str | None:
    """``uk.plugshare.hr.person`` -> ``hr.person``, or None for a type outside the standard."""
    if ce_type.startswith(TYPE_PREFIX) and ce_type[len(TYPE_PREFIX):] in MESSAGE_TYPES:
        return ce_type[len(TYPE_PREFIX):]
    return None


def record_key(message: Any) -> tuple[str, str] | None:
    """(message type, record id) of a message, a delete naming its record in subject; None if it names none.

    Defensive on purpose: servers, checkers and the conformance suite call it on JSON they have not
    validated yet.
    """
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    message_type = message_type_of(message["type"])
    data = message.get("data")
    record_id = message.get("subject") if message.get("action") == "delete" else (
        data.get("id") if isinstance(data, dict) else None)
    return (message_type, record_id) if message_type and isinstance(record_id, str) and record_id else None


def api_path(message_type: str) -> str:
    """Where a message type lives in the REST API, below a council: ``hr.person`` -> ``hr/person``."""
    if message_type not in MESSAGE_TYPES:
        raise KeyError(f"{message_type!r} is not a message type of the standard")
    return message_type.replace(".", "/", 1)


@cache
def message_model(message_type: str) -> type[Envelope]:
    """The envelope model whose ``type`` is fixed to this message type and whose ``data`` is its record."""
    record = MESSAGE_TYPES[message_type]
    ce_type = cloudevents_type(message_type)
    return create_model(
        record.__name__ + "Message",
        __base__=Envelope,
        __doc__=f"A {message_type} message: a CloudEvents envelope whose data is a {record.__name__}.",
        type=(Literal[ce_type], Field(description=f"Always {ce_type}.")),  # type: ignore[valid-type]
        data=(record | None, None),
        __cls_kwargs__={"json_schema_extra": envelope_rules(ce_type)},
    )


__all__ = ["MESSAGE_TYPES", "RECORD_MODELS", "STANDARD_VERSION", "message_model", "cloudevents_type",
           "message_type_of", "api_path", "record_key", "Record", "Envelope"]
