"""Writing a Standard 18 Direct Credit file from bank accounts and payslips, as the messages arrive.

Bank accounts are buffered by person id (the one join a payment needs); each
payslip becomes one credit record at once. The labels are written with the
first payment (its payment date sets the processing day unless the option
does), the contra and the trailer labels at the end. The file is written
beside the target and moved into place only when complete.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from plugshare.adapters.bacs18 import layout as L
from plugshare.adapters.contract import (
    Adapter,
    AdapterError,
    Outcome,
    Position,
    RecordError,
    take_message,
)
from plugshare.adapters.files import NativeOutput

BANK_ACCOUNT, PAYSLIP = "payroll.bank-account", "payroll.payslip"


class Writer:
    def __init__(self, adapter: Adapter, target: str):
        self.adapter, self.target = adapter, target
        self.options = _write_options(adapter)
        #: person id -> bank account id -> the fields a payment needs
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {}
        self.owner: dict[str, str] = {}  # bank account id -> person id, for deletions
        self.refused: dict[str, str] = {}  # person id -> why their last bank account was refused
        self.out: NativeOutput | None = None
        self.payment_date: dt.date | None = None
        self.section = 0  # pence since the last contra
        self.labels = ("", "")  # HDR1 and HDR2, repeated by EOF1 and EOF2
        self.totals = {"debit_total": 0, "credit_total": 0, "debit_count": 0, "credit_count": 0}

    # --- the stream -----------------------------------------------------------------

    def run(self, messages: Iterable[dict[str, Any]]) -> Iterator[Outcome]:
        finished = False
        try:
            for number, message in enumerate(messages, start=1):
                yield take_message(Position("messages", number), message, lambda m=message: self._one(m),
                                   "a payment")
            self._finish()
            finished = True
        finally:
            self._close(finished)

    def _one(self, message: dict[str, Any]) -> list[str]:
        """Take one message; the pointers of its values the file cannot carry (see :meth:`_not_carried`)."""
        kind = str(message.get("type", "")).removeprefix("uk.plugshare.")
        action = message.get("action", "upsert")
        if kind == BANK_ACCOUNT:
            if action == "delete":
                person = self.owner.pop(str(message.get("subject")), None)
                self.accounts.get(person or "", {}).pop(str(message.get("subject")), None)
                return []
            self._remember(message["data"])
            return self._not_carried(message["data"])
        if kind == PAYSLIP:
            if action == "delete":
                raise RecordError("a payslip deletion cannot be written: a payment file can only make payments; "
                                  "stop the payment with the bank if it was already sent")
            self._pay(message["data"])
            return []  # the payment is made from the payslip, which is not a record of the file
        raise RecordError(f"a {kind or 'message without a type'} message has no place in a BACS payment file "
                          f"(it carries {BANK_ACCOUNT} and {PAYSLIP})")

    def _not_carried(self, data: dict[str, Any]) -> list[str]:
        """What of a bank account the payments to it cannot carry, as JSON pointers.

        A payment carries the account's sort code and number, its name as Bacs holds it (trimmed, upper case,
        the first 18 characters) and its building society roll number as the reference; its id, person_id
        and effective dates choose the account a payslip pays. Not carried: a name or roll number that Bacs
        would change, source ids other than the reference (scheme ``bacs18``), and the extensions under this
        adapter's namespace, which describe a payment read from a file (its amount, originator, processing
        day), not the account: a payment written takes them from the payslip and the options.
        """
        lost = []
        roll = data.get("building_society_roll_number")
        for name, value in (("account_name", data.get("account_name")), ("building_society_roll_number", roll)):
            if isinstance(value, str) and value and L.as_bacs(value, 18) != value:
                lost.append(f"/data/{name}")
        for index, source in enumerate(data.get("source_ids") or []):
            if source.get("scheme") != self.adapter.key or roll and source.get("value") != roll:
                lost.append(f"/data/source_ids/{index}")
        namespace = self.adapter.extension_namespace
        for name in ((data.get("extensions") or {}).get(namespace) or {}):
            lost.append(f"/data/extensions/{namespace}/{str(name).replace('~', '~0').replace('/', '~1')}")
        return lost

    def _remember(self, data: dict[str, Any]) -> None:
        person, record_id = data["person_id"], data["id"]
        earlier = self.owner.pop(record_id, None)  # an upsert replaces the earlier version, valid or not
        if earlier is not None:
            self.accounts[earlier].pop(record_id, None)
        problem = None
        if not re.fullmatch(r"[0-9]{6}", data["sort_code"]) or not re.fullmatch(r"[0-9]{8}", data["account_number"]):
            masked = L.mask_account(data["account_number"])
            problem = f"sort_code must be 6 digits and account_number 8 (it has {masked})"
        elif not data["account_name"].strip():
            problem = "account_name is blank"
        elif L.bacs_problem(data["account_name"]):
            problem = f"account_name: {L.bacs_problem(data['account_name'])}"
        if problem:
            reason = f"bank account {record_id}: {problem}"
            self.refused[person] = reason
            raise RecordError(reason + "; correct the bank account (payments to this person cannot be written)")
        self.accounts.setdefault(person, {})[record_id] = {
            "id": record_id, "sort_code": data["sort_code"], "account_number": data["account_number"],
            "account_name": data["account_name"], "roll_number": data.get("building_society_roll_number"),
            "from": dt.date.fromisoformat(data["effective_from"]),
            "to": dt.date.fromisoformat(data["effective_to"]) if data.get("effective_to") else None,
        }
        self.owner[record_id] = person

    # --- payments -------------------------------------------------------------------

    def _pay(self, data: dict[str, Any]) -> None:
        amount = _pence(data["net_pay"])
        paid_on = dt.date.fromisoformat(data["payment_date"])
        account = self._account(data["person_id"], paid_on)
        reference = account["roll_number"] or data["payroll_id"]
        source = "the building society roll number" if account["roll_number"] else "payroll_id"
        if len(reference) > 18:
            raise RecordError(f"{source} {reference!r} is longer than the 18 characters of the BACS reference; "
                              f"a shorter one is needed to pay by BACS")
        values = {
            "destination_sort_code": account["sort_code"], "destination_account": account["account_number"],
            "transaction_type": "0", "transaction_code": L.CREDIT, **self._originator(),
            "amount": L.pence(amount, 11), "reference": L.bacs_text(reference, source, 18),
            "destination_name": L.bacs_text(account["account_name"], f"bank account {account['id']} account_name",
                                            18),
        }
        if self.payment_date is not None and paid_on != self.payment_date:
            raise RecordError(f"payment date {paid_on} differs from this file's {self.payment_date}; a Standard 18 "
                              f"file pays on one processing day: write the other payments to another file")
        if self.totals["credit_total"] + amount > L.LARGEST_TOTAL or self.totals["credit_count"] >= L.LARGEST_COUNT:
            raise RecordError("this payment would take the file past the totals a Standard 18 trailer can hold; "
                              "split the pay run into several files")
        if self.out is None:
            self._start(paid_on)
        if self.section + amount > L.LARGEST_AMOUNT:  # the contra must fit 11 digits: close this section first
            self._contra()
        self._line(L.write_fields(values, L.DATA))
        self.section += amount
        self.totals["credit_total"] += amount
        self.totals["credit_count"] += 1

    def _account(self, person: str, day: dt.date) -> dict[str, Any]:
        held = self.accounts.get(person, {})
        current = [a for a in held.values() if a["from"] <= day and (a["to"] is None or a["to"] >= day)]
        if not current:
            if held:
                reason = f"none of the {len(held)} bank account(s) of person {person} is current on {day}"
            elif person in self.refused:
                reason = f"the bank account of person {person} was refused ({self.refused[person]})"
            else:
                reason = (f"no bank account for person {person} has come before this payslip; send the "
                          f"{BANK_ACCOUNT} messages ahead of the payslips")
            raise RecordError(f"net pay cannot be paid: {reason}")
        current.sort(key=lambda a: a["from"], reverse=True)
        if len(current) > 1 and current[0]["from"] == current[1]["from"]:
            raise RecordError(f"person {person} has two bank accounts current on {day} from the same date "
                              f"({current[0]['id']}, {current[1]['id']}); end one of them with effective_to")
        return current[0]

    def _originator(self) -> dict[str, str]:
        return {"originating_sort_code": self.options["sort_code"], "originating_account": self.options["account"],
                "free_format": "    ", "user_name": self.options["user_name"]}

    # --- the file -------------------------------------------------------------------

    def _start(self, paid_on: dt.date) -> None:
        self.payment_date = paid_on
        day = self.options["processing_date"] or paid_on
        serial = self.options["serial"] or f"{day.timetuple().tm_yday:03d}001"
        self.out = NativeOutput(self.target, encoding="ascii", newline="")
        sun = self.options["sun"]
        self.labels = (L.hdr1(sun, serial, self.adapter.as_at.date(), day), L.hdr2())
        for label in (L.vol1(serial, sun), *self.labels, L.uhl1(day)):
            self._line(label)

    def _contra(self) -> None:
        values = {"destination_sort_code": self.options["sort_code"],
                  "destination_account": self.options["account"], "transaction_type": "0",
                  "transaction_code": L.DEBIT_CONTRA, **self._originator(), "amount": L.pence(self.section, 11),
                  "reference": L.CONTRA_NARRATIVE.ljust(18), "destination_name": self.options["user_name"]}
        self._line(L.write_fields(values, L.DATA))
        self.totals["debit_total"] += self.section
        self.totals["debit_count"] += 1
        self.section = 0

    def _finish(self) -> None:
        if self.out is None:
            raise AdapterError(f"{self.target}: no payment could be written (no payslip with a bank account and "
                               f"net pay above zero), so no BACS file was made; see the rejected messages")
        self._contra()
        hdr1, hdr2 = self.labels
        self._line("EOF1" + hdr1[4:])
        self._line("EOF2" + hdr2[4:])
        self._line(L.utl1(**self.totals))

    def _line(self, text: str) -> None:
        assert self.out is not None
        self.out.write(text + "\r\n")

    def _close(self, finished: bool) -> None:
        if self.out is not None:
            self.out.close(finished)


def _pence(text: str) -> int:
    try:
        amount = Decimal(text)
    except (InvalidOperation, TypeError):
        raise RecordError(f"net_pay {text!r} is not an amount of money") from None
    if amount <= 0:
        raise RecordError(f"net pay is {text}: a payslip with net pay of zero or less pays nothing by BACS "
                          f"(recover an overpayment another way)")
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise RecordError(f"net_pay {text} has fractions of a penny")
    if pence > L.LARGEST_AMOUNT:
        raise RecordError(f"net pay {text} does not fit the 11-digit amount in pence of a BACS record")
    return int(pence)


def _write_options(adapter: Adapter) -> dict[str, Any]:
    settings = adapter.settings
    missing = [name for name in ("originator_sort_code", "originator_account", "sun", "user_name")
               if not settings.get(name)]
    if missing:
        raise AdapterError(f"writing a BACS file needs {', '.join('--option ' + m + '=...' for m in missing)} "
                           f"(the council's originating account and its Bacs service user number and name)")
    options: dict[str, Any] = {}
    checks = (("sort_code", "originator_sort_code", r"[0-9]{6}", "6 digits"),
              ("account", "originator_account", r"[0-9]{8}", "8 digits"),
              ("sun", "sun", r"[0-9]{6}", "the 6-digit Bacs service user number"))
    for key, name, pattern, what in checks:
        value = settings[name].replace("-", "").replace(" ", "")
        if not re.fullmatch(pattern, value):
            shown = L.mask_account(value) if key == "account" else repr(settings[name])
            raise AdapterError(f"option {name} must be {what}; it is {shown}")
        options[key] = value
    try:
        options["user_name"] = L.bacs_text(settings["user_name"], "option user_name", 18)
    except RecordError as exc:
        raise AdapterError(exc.reason) from None
    if len(settings["user_name"]) > 18 or not settings["user_name"].strip():
        raise AdapterError(f"option user_name must be 1 to 18 characters; it is {len(settings['user_name'])}")
    options["processing_date"] = None
    if settings.get("processing_date"):
        try:
            options["processing_date"] = dt.date.fromisoformat(settings["processing_date"])
        except ValueError:
            raise AdapterError(f"option processing_date={settings['processing_date']!r} is not a date such as "
                               f"2025-09-24") from None
    serial = settings.get("serial")
    if serial and (not re.fullmatch(r"[A-Z0-9]{6}", serial) or set(serial) == {"0"}):
        raise AdapterError(f"option serial={serial!r} must be 6 capital letters or digits, not all zeros")
    options["serial"] = serial
    return options
