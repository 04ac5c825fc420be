"""What every record mapping shares: keys and ids, required and coded fields, the loss rule.

Ids are made from the legacy keys (``<council>-ctp-<property reference>``,
``-cta-`` accounts, ``-ctb-`` bills, ``-ctpay-`` transactions), so that a
reference between records needs no lookup in either direction. A native field
with no canonical home is kept in extensions under the adapter's namespace and
restored when writing.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from plugshare.adapters.contract import AdapterError, RecordError
from plugshare.adapters.ctax_fixed import codes as C
from plugshare.adapters.ctax_fixed import layout as L
from plugshare.adapters.mapping import CodeList

KEY = "ctax-fixed"
NAMESPACE = f"native.{KEY}"
PROPERTY, ACCOUNT, BILL, PAYMENT = ("revenues.property", "revenues.council-tax-account", "revenues.council-tax-bill",
                                    "revenues.payment")
#: the message type of each record type (an instalment is part of its bill)
MESSAGE_TYPES = {"PRP": PROPERTY, "ACC": ACCOUNT, "BIL": BILL, "PAY": PAYMENT}
PREFIXES = {"property": "ctp", "account": "cta", "bill": "ctb", "payment": "ctpay"}
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
NATIONS = {"E": "england", "W": "wales", "S": "scotland"}
ADDRESS = ("saon", "paon", "street", "locality", "town")
#: native fields with no canonical home, kept in extensions and restored when writing
KEPT = {"PRP": ("property_type", "ward"), "BIL": ("ctr_scheme",), "PAY": ("reversal_reason", "batch"),
        "ACC": ()}
#: fields whose legacy code is kept when it is not the one written for its canonical value
CODE_VARIANTS = {"PRP": (), "ACC": ("discount_1_code", "discount_2_code", "exemption_class", "payment_method"),
                 "BIL": (), "PAY": ("method",)}
MAX_INSTALMENTS = 12
FIRST_YEAR = 1993  # council tax began in April 1993


def title(layout: tuple[L.Field, ...], name: str) -> str:
    return L.field(layout, name).title


def percent_text(digits: str) -> str:
    """``02500`` (two implied decimals) -> ``"25"``: the shortest exact form."""
    value = Decimal(int(digits)).scaleb(-2).normalize()
    return f"{value:f}"


#: a percent as the standard writes it: digits with an optional decimal point, no sign or exponent
PERCENT = re.compile(r"[0-9]+(\.[0-9]+)?")


def percent_digits(value: str, what: str) -> str:
    """``"25"`` or ``"12.5"`` -> the hundredths the extract holds (``2500``, ``1250``); anything else that
    cannot be written exactly (not a percent of that form, or more than two decimals) is a RecordError."""
    if not isinstance(value, str) or not PERCENT.fullmatch(value):
        raise RecordError(f"{what} percent {value!r} is not a percent such as 25 or 12.5 (digits, with an optional "
                          f"decimal point)")
    hundredths = Decimal(value) * 100
    if hundredths != hundredths.to_integral_value():
        raise RecordError(f"{what} {value}% has more than the two decimal places the extract holds")
    return str(int(hundredths))


class MapperBase:
    """Keys, ids and field helpers for one council's extract."""

    def __init__(self, council: str):
        self.council = council
        nation = NATIONS.get(council[:1])
        if nation is None:
            raise AdapterError(f"council {council} is not in England, Wales or Scotland, which have council tax; "
                               f"check --option council")
        self.nation = nation

    # --- keys and ids ---------------------------------------------------------------

    def ident(self, kind: str, key: str) -> str:
        return f"{self.council}-{PREFIXES[kind]}-{key}"

    def key(self, kind: str, record_id: Any, what: str) -> str:
        prefix = f"{self.council}-{PREFIXES[kind]}-"
        text = str(record_id)
        if not text.startswith(prefix) or len(text) == len(prefix):
            raise RecordError(f"{what} {text!r} is not an id this extract's references make ({prefix}<reference>), "
                              f"so the legacy reference for it is unknown")
        return text[len(prefix):]

    @staticmethod
    def reference(row: dict, name: str, layout: tuple[L.Field, ...]) -> str:
        value = row[name]
        if value is None:
            raise RecordError(f"{title(layout, name)} is blank; it is required")
        if not REFERENCE.fullmatch(value):
            raise RecordError(f"{title(layout, name)} {value!r} holds a character a record id cannot hold (it takes "
                              f"letters, digits and . _ : -); correct the reference at source")
        return value

    @staticmethod
    def code(codes: CodeList, row: dict, name: str, layout: tuple[L.Field, ...], kept: dict | None = None) -> str:
        """The canonical value of a required code field; a code kept in ``kept`` when it is not the usual one."""
        if row[name] is None:
            raise RecordError(f"{title(layout, name)} is blank; it is required")
        try:
            if name == "exemption_class":
                return C.exemption(row[name], kept if kept is not None else {})
            if kept is None:
                return codes.to_canonical(row[name])
            return C.to_canonical(codes, row[name], name, kept)
        except RecordError as exc:
            raise RecordError(f"{title(layout, name)}: {exc.reason.removeprefix(codes.name + ': ')}") from None

    @staticmethod
    def required(row: dict, name: str, layout: tuple[L.Field, ...]) -> str:
        if row[name] is None:
            raise RecordError(f"{title(layout, name)} is blank; it is required")
        return row[name]

    @staticmethod
    def keep(row: dict, kind: str, kept: dict[str, str]) -> dict[str, dict[str, str]]:
        layout = L.LAYOUTS[kind]
        for name in KEPT[kind]:
            value = row[name]
            if value is not None and (L.field(layout, name).kind != "N" or value.strip("0")):
                kept[name] = value
        return {NAMESPACE: kept} if kept else {}

    @staticmethod
    def restore(data: dict, kind: str) -> dict[str, str]:
        kept = dict(data.get("extensions", {}).get(NAMESPACE, {}))
        unknown = sorted(set(kept) - set(KEPT[kind]) - set(CODE_VARIANTS[kind]))
        if unknown:
            raise RecordError(f"extensions {NAMESPACE} holds {', '.join(unknown)}, which the extract's {kind} record "
                              f"has no field for; remove it or write the record elsewhere")
        return {name: str(value) for name, value in kept.items()}
