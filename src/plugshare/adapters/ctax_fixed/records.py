"""Native records <-> canonical records: one method each way per record type.

Reading builds plain JSON records (the conversion validates them); writing
turns a record back into rows of native values, which :mod:`layout` lays out.
"""

from __future__ import annotations

import re
from typing import Any

from plugshare.adapters.contract import RecordError
from plugshare.adapters.ctax_fixed import codes as C
from plugshare.adapters.ctax_fixed import layout as L
from plugshare.adapters.ctax_fixed.accounts import AccountMapping
from plugshare.adapters.ctax_fixed.base import (
    ACCOUNT,
    ADDRESS,
    BILL,
    FIRST_YEAR,
    KEPT,
    KEY,
    MAX_INSTALMENTS,
    MESSAGE_TYPES,
    PAYMENT,
    PROPERTY,
    percent_digits,
    percent_text,
    title,
)
from plugshare.calculations import year_label
from plugshare.identifiers import UPRN_MAX, is_postcode, normalise_postcode


class Mapper(AccountMapping):
    """Maps the records of one council's extract."""

    def read(self, group: list[tuple[int, str]]) -> tuple[str, dict[str, Any]]:
        """One native record, as (line number, text) pairs (a bill with its instalment lines) -> its message type
        and canonical record."""
        (_, text), following = group[0], group[1:]
        kind = text[:L.RECORD_TYPE_WIDTH]
        if kind == "INS":
            raise RecordError("an instalment record with no bill before it (instalments follow their BIL record, "
                              "at most 12 of them)")
        if kind not in MESSAGE_TYPES:
            raise RecordError(f"record type {kind!r} is not one of this extract's (PRP, ACC, BIL, INS, PAY between "
                              f"HDR and TRL)")
        row = _fields(kind, text)
        if kind == "PRP":
            return PROPERTY, self.property(row)
        if kind == "ACC":
            return ACCOUNT, self.account(row)
        if kind == "PAY":
            return PAYMENT, self.payment(row)
        instalments = []
        for line, instalment in following:
            try:
                instalments.append((line, _fields("INS", instalment)))
            except RecordError as exc:
                raise RecordError(f"the instalment record on line {line}: {exc.reason}") from None
        return BILL, self.bill(row, instalments)

    # --- properties -----------------------------------------------------------------

    def property(self, row: dict) -> dict[str, Any]:
        reference = self.reference(row, "property_reference", L.PROPERTY)
        uprn = int(row["uprn"])
        if not 1 <= uprn <= UPRN_MAX:
            raise RecordError(f"{title(L.PROPERTY, 'uprn')} is zero; the standard knows a property by its UPRN, so "
                              f"it is required")
        address: dict[str, Any] = {name: row[name] for name in ADDRESS if row[name] is not None}
        if row["postcode"] is not None:
            postcode = normalise_postcode(row["postcode"])
            if not is_postcode(postcode):
                raise RecordError(f"{title(L.PROPERTY, 'postcode')} {row['postcode']!r} is not a UK postcode")
            address["postcode"] = postcode
        address["country"] = "GB"
        address["uprn"] = uprn
        if int(row["usrn"]):
            address["usrn"] = int(row["usrn"])
        record: dict[str, Any] = {
            "id": self.ident("property", reference), "source_ids": [{"scheme": KEY, "value": reference}],
            "extensions": self.keep(row, "PRP", {}), "address": address, "nation": self.nation, "domestic": True,
        }
        if (row["valuation_list"] is None) != (row["band"] is None):
            raise RecordError(f"the {title(L.PROPERTY, 'valuation_list')} and {title(L.PROPERTY, 'band')} go "
                              f"together: give both, or neither for a dwelling not yet banded")
        if row["band"] is not None:
            banding = {"valuation_list": self.code(C.VALUATION_LISTS, row, "valuation_list", L.PROPERTY),
                       "band": self.code(C.BANDS, row, "band", L.PROPERTY)}
            if row["band_effective_date"]:
                banding["effective_date"] = row["band_effective_date"]
            record["council_tax"] = banding
        elif row["band_effective_date"]:
            raise RecordError(f"a {title(L.PROPERTY, 'band_effective_date')} is given without a band")
        return record

    def property_row(self, data: dict) -> dict[str, Any]:
        kept = self.restore(data, "PRP")
        if data.get("domestic") is False:
            raise RecordError("a non-domestic property (a hereditament) has no place in a council tax extract")
        if data.get("nation", self.nation) != self.nation:
            raise RecordError(f"the property is in {data['nation']}; this extract is for a council in {self.nation}")
        address = data["address"]
        banding = data.get("council_tax") or {}
        row = {"record_type": "PRP", "property_reference": self.key("property", data["id"], "the property's id"),
               **{name: address.get(name) for name in (*ADDRESS, "postcode")},
               "uprn": str(address["uprn"]), "usrn": str(address.get("usrn") or ""),
               "valuation_list": C.VALUATION_LISTS.to_native(banding["valuation_list"]) if banding else None,
               "band": C.BANDS.to_native(banding["band"]) if banding else None,
               "band_effective_date": banding.get("effective_date")}
        return {**row, **{name: kept[name] for name in KEPT["PRP"] if name in kept}}

    # --- bills and their instalments --------------------------------------------------

    def bill(self, row: dict, instalments: list[tuple[int, dict]]) -> dict[str, Any]:
        reference = self.reference(row, "account_reference", L.BILL)
        year = int(row["financial_year"])
        if not FIRST_YEAR <= year <= 2099:
            raise RecordError(f"{title(L.BILL, 'financial_year')} {row['financial_year']} is not a year of council "
                              f"tax (from {FIRST_YEAR}); it is the year the financial year starts, e.g. 2025")
        number = row["bill_number"]
        if not int(number):
            raise RecordError(f"{title(L.BILL, 'bill_number')} is 00; bills are numbered from 01")
        count = int(row["instalment_count"])
        if count != len(instalments):
            raise RecordError(f"the bill gives {count} instalment(s) ({title(L.BILL, 'instalment_count')}) but "
                              f"{len(instalments)} instalment record(s) follow it")
        plan = []
        for expected, (line, ins) in enumerate(instalments, start=1):
            key = (ins["account_reference"], ins["financial_year"], ins["bill_number"])
            if key != (reference, row["financial_year"], number):
                raise RecordError(f"the instalment record on line {line} belongs to account {key[0]}, year {key[1]}, "
                                  f"bill {key[2]}, not to this bill ({reference}, {row['financial_year']}, {number})")
            if int(ins["instalment_number"]) != expected:
                raise RecordError(f"the instalment record on line {line} is number {ins['instalment_number']}; "
                                  f"instalment {expected} was expected (they follow their bill in order)")
            if ins["due_date"] is None:
                raise RecordError(f"the instalment record on line {line}: {title(L.INSTALMENT, 'due_date')} is blank")
            plan.append({"due_date": ins["due_date"], "amount": ins["amount"]})
        exempt = C.EXEMPT_FLAGS.get(row["exempt"] or "")
        if exempt is None:
            raise RecordError(f"{title(L.BILL, 'exempt')} is {row['exempt'] or 'blank'!r}; it is Y or N")
        financial_year = year_label(year)
        period = {"start": self.required(row, "period_start", L.BILL)}
        if row["period_end"]:
            period["end"] = row["period_end"]
        return {
            "id": self.ident("bill", f"{reference}-{financial_year}-{number}"),
            "source_ids": [{"scheme": KEY, "value": f"{reference}/{row['financial_year']}/{number}"}],
            "extensions": self.keep(row, "BIL", {}), "account_id": self.ident("account", reference),
            "financial_year": financial_year, "issue_date": self.required(row, "issue_date", L.BILL),
            "period": period, "valuation_list": self.code(C.VALUATION_LISTS, row, "valuation_list", L.BILL),
            "band": self.code(C.BANDS, row, "band", L.BILL),
            "band_d_charge": row["band_d_charge"], "discount_percent": percent_text(row["discount_percent"]),
            "premium_percent": percent_text(row["premium_percent"]), "exempt": exempt,
            "annual_charge": row["annual_charge"], "period_charge": row["period_charge"],
            "reduction": row["reduction"], "amount_payable": row["amount_payable"], "instalments": plan,
        }

    def bill_rows(self, data: dict) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        kept = self.restore(data, "BIL")
        match = re.fullmatch(rf"{re.escape(self.council)}-ctb-(?P<account>.+)-(?P<year>[0-9]{{4}})-[0-9]{{2}}-"
                             rf"(?P<number>[0-9]{{2}})", str(data["id"]))
        if not match:
            raise RecordError(f"the bill's id {data['id']!r} is not one this extract makes "
                              f"({self.council}-ctb-<account reference>-<financial year>-<bill number>), so its "
                              f"bill number is unknown")
        account = self.key("account", data["account_id"], "account_id")
        if match["account"] != account or year_label(int(match["year"])) != data["financial_year"]:
            raise RecordError(f"the bill's id {data['id']!r} names another account or year than its account_id "
                              f"and financial_year ({data['account_id']}, {data['financial_year']})")
        instalments = data["instalments"]
        if len(instalments) > MAX_INSTALMENTS:
            raise RecordError(f"the bill has {len(instalments)} instalments; the legacy system holds at most "
                              f"{MAX_INSTALMENTS}")
        key = {"account_reference": account, "financial_year": match["year"], "bill_number": match["number"]}
        row = {"record_type": "BIL", **key, "issue_date": data["issue_date"],
               "period_start": data["period"]["start"], "period_end": data["period"].get("end"),
               "valuation_list": C.VALUATION_LISTS.to_native(data["valuation_list"]),
               "band": C.BANDS.to_native(data["band"]), "band_d_charge": data["band_d_charge"],
               "discount_percent": percent_digits(data["discount_percent"], "the discount"),
               "premium_percent": percent_digits(data["premium_percent"], "the premium"),
               "exempt": "Y" if data.get("exempt") else "N", "annual_charge": data["annual_charge"],
               "period_charge": data["period_charge"], "reduction": data["reduction"],
               "amount_payable": data["amount_payable"], "instalment_count": str(len(instalments)),
               **{name: kept[name] for name in KEPT["BIL"] if name in kept}}
        rows = [{"record_type": "INS", **key, "instalment_number": str(n), "due_date": i["due_date"],
                 "amount": i["amount"]} for n, i in enumerate(instalments, start=1)]
        return row, rows

    # --- payment transactions ----------------------------------------------------------

    def payment(self, row: dict) -> dict[str, Any]:
        reference = self.reference(row, "transaction_reference", L.PAYMENT)
        account = self.reference(row, "account_reference", L.PAYMENT)
        kept: dict[str, str] = {}
        kind = self.code(C.TRANSACTION_TYPES, row, "transaction_type", L.PAYMENT)
        amount = row["amount"]
        negative = amount.startswith("-")
        if kind == "payment" and negative or kind != "payment" and (not negative):
            sign = "positive" if kind == "payment" else "negative"
            raise RecordError(f"a {row['transaction_type']} transaction ({kind}) is recorded with a {sign} amount; "
                              f"this one is {amount} ({title(L.PAYMENT, 'amount')})")
        method = self.code(C.PAYMENT_METHODS, row, "method", L.PAYMENT, kept)
        record: dict[str, Any] = {
            "id": self.ident("payment", reference), "source_ids": [{"scheme": KEY, "value": reference}],
            "extensions": {}, "account_kind": "council_tax", "account_id": self.ident("account", account),
            "payment_type": kind, "amount": amount.removeprefix("-"),
            "received_date": self.required(row, "transaction_date", L.PAYMENT), "method": method,
        }
        if row["payer_reference"]:
            record["reference"] = row["payer_reference"]
        if row["reversed_reference"]:
            reversed_reference = self.reference(row, "reversed_reference", L.PAYMENT)
            record["reverses_payment_id"] = self.ident("payment", reversed_reference)
        record["extensions"] = self.keep(row, "PAY", kept)
        return record

    def payment_row(self, data: dict) -> dict[str, Any]:
        kept = self.restore(data, "PAY")
        if data["account_kind"] != "council_tax":
            raise RecordError(f"a {data['account_kind']} payment has no place in a council tax extract")
        kind = data["payment_type"]
        if kind != "payment" and L.pence(data["amount"]) == 0:
            raise RecordError(f"a {kind} of 0.00 cannot be recorded: the extract records {kind}s as negative "
                              f"amounts")
        row = {"record_type": "PAY", "transaction_reference": self.key("payment", data["id"], "the payment's id"),
               "account_reference": self.key("account", data["account_id"], "account_id"),
               "transaction_type": C.TRANSACTION_TYPES.to_native(kind), "transaction_date": data["received_date"],
               "amount": data["amount"] if kind == "payment" else f"-{data['amount']}",
               "method": C.to_native(C.PAYMENT_METHODS, data["method"], "method", kept),
               "payer_reference": data.get("reference"),
               "reversed_reference": self.key("payment", data["reverses_payment_id"], "reverses_payment_id")
               if data.get("reverses_payment_id") else None}
        row.update({name: kept[name] for name in KEPT["PAY"] if name in kept})
        return row


def _fields(kind: str, text: str) -> dict[str, str | None]:
    width = L.WIDTHS[kind]
    if len(text) != width:
        raise RecordError(f"the {L.NAMES[kind]} record is {len(text)} characters; {kind} records are {width}, so its "
                          f"fields cannot be found: correct the record (trailing spaces may have been trimmed)")
    return L.read_fields(text, L.LAYOUTS[kind])
