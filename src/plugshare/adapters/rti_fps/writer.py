"""Writing an FPS as the messages arrive: a person's messages wait in a bounded buffer for their payslip.

Each payslip becomes one Employee element at once, made with the hr.person
and payroll.tax-details that came before it. Those wait in a buffer of at most
``max_pending`` messages (the oldest leaves first); their outcome is given when
a payslip uses them, when they leave the buffer unused, or at the end. The
envelope is written with the first employee and closed at the end; the file is
written beside the target and moved into place only when complete.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from plugshare.adapters.contract import (
    GARBLED,
    Adapter,
    AdapterError,
    Converted,
    Outcome,
    Position,
    RecordError,
    Rejected,
    garbled_reason,
)
from plugshare.adapters.files import NativeOutput
from plugshare.adapters.loss import not_restored
from plugshare.adapters.rti_fps import nodes as N
from plugshare.adapters.rti_fps import schema as S
from plugshare.adapters.rti_fps.document import DECLARATION, Node, close_tag, leaf, lines, open_tag
from plugshare.adapters.rti_fps.employee import PAYSLIP, PERSON, TAX_DETAILS
from plugshare.adapters.rti_fps.lost import read_back
from plugshare.adapters.rti_fps.reader import Submission

CARRIED = (PERSON, TAX_DETAILS, PAYSLIP)
#: what a message that lacks or garbles a field raises while it is mapped
#: GovTalkMessage > Body > IRenvelope > FullPaymentSubmission > Employee
EMPLOYEE_DEPTH = 4


@dataclass
class _Held:
    number: int
    message: dict[str, Any]
    used: bool = False
    #: why a payslip that needed this message could not be written
    failed: str | None = None


@dataclass
class _Options:
    refs: dict[str, str] = field(default_factory=dict)
    period_end: str | None = None
    final: bool = False
    max_pending: int = 1000


class Writer:
    def __init__(self, adapter: Adapter, target: str):
        self.adapter, self.target = adapter, target
        self.options = _write_options(adapter.settings)
        self.pending: OrderedDict[tuple[str, str], _Held] = OrderedDict()
        self.out: NativeOutput | None = None
        self.tax_year: str | None = None
        self.employer: N.Employer | None = None
        self.depth = 0

    def run(self, messages: Iterable[dict[str, Any]]) -> Iterator[Outcome]:
        finished = False
        try:
            for number, message in enumerate(messages, start=1):
                others: list[Outcome] = []
                try:
                    own = self._one(number, message, others)
                except (RecordError, *GARBLED) as exc:
                    own = Rejected(Position("messages", number), message, _reason(exc),
                                   exc.requirement if isinstance(exc, RecordError) else None)
                yield from others
                if own is not None:
                    yield own
            for held in list(self.pending.values()):
                if not held.used:
                    yield self._unused(held, "no payslip for it came in the stream; an FPS reports payments, so "
                                             "a person or their tax details cannot be written alone")
            self.pending.clear()
            self._finish()
            finished = True
        finally:
            self._close(finished)

    # --- the stream ---------------------------------------------------------------------------

    def _one(self, number: int, message: dict[str, Any], others: list[Outcome]) -> Outcome | None:
        kind = str(message.get("type", "")).removeprefix("uk.plugshare.")
        if kind not in CARRIED:
            raise RecordError(f"a {kind or 'message without a type'} message has no place in an FPS (it carries "
                              f"{', '.join(CARRIED)})")
        if message.get("action", "upsert") != "upsert":
            raise RecordError(f"a {kind} deletion cannot be written: an FPS reports payments, and an earlier one is "
                              f"corrected by the figures of the next")
        if message.get("council") != self.adapter.council:
            raise RecordError(f"the message is council {message.get('council')}'s; this FPS is written for council "
                              f"{self.adapter.council} (--option council)")
        data = message["data"]
        if kind == PAYSLIP:
            return self._payslip(number, message, data, others)
        key = (PERSON, data["id"]) if kind == PERSON else (TAX_DETAILS, f"{data['employment_id']}|{data['tax_year']}")
        earlier = self.pending.pop(key, None)
        if earlier is not None and not earlier.used:  # an upsert replaces it: the later version is written
            why = (f"its payslip could not be written ({earlier.failed}), and message {number} replaced it"
                   if earlier.failed else f"replaced by message {number}, a later version of the same record, "
                                          f"before any payslip used it")
            others.append(self._not_written(earlier, why))
        self.pending[key] = _Held(number, message)
        while len(self.pending) > self.options.max_pending:
            _, oldest = self.pending.popitem(last=False)
            if not oldest.used:
                others.append(self._unused(oldest, f"no payslip for it came within the next "
                                                   f"{self.options.max_pending} messages (--option max_pending); "
                                                   f"send a person's messages just before their payslips"))
        return None

    def _payslip(self, number: int, message: dict[str, Any], data: dict[str, Any],
                 others: list[Outcome]) -> Outcome:
        person = self.pending.get((PERSON, data["person_id"]))
        tax = self.pending.get((TAX_DETAILS, f"{data['employment_id']}|{data['tax_year']}"))
        if person is None:
            raise RecordError(f"no hr.person {data['person_id']} came before this payslip (among the last "
                              f"{self.options.max_pending} messages kept); send each person's hr.person and "
                              f"payroll.tax-details ahead of their payslips")
        try:
            year, employer = self._same_submission(data)
            node = N.employee(person.message["data"], tax.message["data"] if tax else None, data)
            back = read_back(node, Submission(S.NAMESPACE_OF_YEAR[year], year, employer.refs, related_year=year),
                             self.adapter.council)
            text = "\n".join(lines(node, EMPLOYEE_DEPTH)) + "\n"
        except (RecordError, *GARBLED) as exc:
            for held in (person, tax):
                if held is not None:
                    held.failed = _reason(exc)
            raise
        if self.out is None:
            self.tax_year, self.employer = year, employer
            self._start(data)
        assert self.out is not None
        self.out.write(text)
        namespace = self.adapter.extension_namespace
        for held, kind in ((person, PERSON), (tax, TAX_DETAILS)):
            if held is not None:
                self.pending.move_to_end((PERSON, data["person_id"]) if held is person
                                         else (TAX_DETAILS, f"{data['employment_id']}|{data['tax_year']}"))
                if not held.used:
                    held.used = True
                    lost = not_restored(held.message["data"], back.get(kind), namespace)
                    others.append(Converted(Position("messages", held.number), [held.message], lost=lost))
        return Converted(Position("messages", number), [message], lost=not_restored(data, back[PAYSLIP], namespace))

    def _unused(self, held: _Held, why: str) -> Rejected:
        """A person or tax details no payslip used: ``why``, or why the payslip that needed it failed."""
        return self._not_written(held, f"its payslip could not be written ({held.failed})" if held.failed else why)

    def _not_written(self, held: _Held, why: str) -> Rejected:
        data = held.message.get("data", {})
        kind = str(held.message.get("type", "")).removeprefix("uk.plugshare.")
        return Rejected(Position("messages", held.number), held.message, f"{kind} {data.get('id')} was not written: "
                                                                         f"{why}")

    def _same_submission(self, slip: dict[str, Any]) -> tuple[str, N.Employer]:
        """The first payslip written names the tax year and PAYE scheme; every other must share them."""
        year = slip["tax_year"]
        if year not in S.NAMESPACE_OF_YEAR:
            raise RecordError(f"tax year {year}: this adapter writes the FPS of {', '.join(S.NAMESPACE_OF_YEAR)}")
        kept = N.kept(slip)
        refs = {name: kept[f"EmpRefs/{name}"] for name in S.ORDER["EmpRefs"] if f"EmpRefs/{name}" in kept}
        if self.tax_year is None:  # the options name the scheme whole: no reference of another scheme is kept
            chosen = dict(self.options.refs) if self.options.refs else refs
            missing = [name for name in ("OfficeNo", "PayeRef", "AORef") if not chosen.get(name)]
            if missing:
                raise RecordError("the employer's PAYE reference is not known: give --option paye_reference=... and "
                                  "--option accounts_office_reference=... (payslips read from an FPS keep them)")
            return year, N.Employer(chosen)
        assert self.employer is not None
        if year != self.tax_year:
            raise RecordError(f"the payslip is for tax year {year}; this FPS is for {self.tax_year} (one FPS, one "
                              f"tax year): write it to another file")
        if not self.options.refs and refs and (refs.get("OfficeNo"), refs.get("PayeRef")) != (
                self.employer.refs["OfficeNo"], self.employer.refs["PayeRef"]):
            raise RecordError(f"the payslip was reported under PAYE reference {refs.get('OfficeNo')}/"
                              f"{refs.get('PayeRef')}; this FPS is for {self.employer.paye_reference}: write it to "
                              f"another file")
        return self.tax_year, self.employer

    # --- the document ---------------------------------------------------------------------------

    def _start(self, first: dict[str, Any]) -> None:
        assert self.employer is not None and self.tax_year is not None
        self.out = NativeOutput(self.target, encoding="utf-8", newline="\n")
        refs = self.employer.refs
        keys = Node("Keys", children=[leaf("Key", refs["OfficeNo"], Type="TaxOfficeNumber"),
                                      leaf("Key", refs["PayeRef"], Type="TaxOfficeReference")])
        details = Node("MessageDetails", children=[leaf("Class", S.MESSAGE_CLASS), leaf("Qualifier", "request"),
                                                   leaf("Function", "submit"), leaf("Transformation", "XML")])
        header = Node("IRheader", children=[keys, leaf("PeriodEnd", self.options.period_end or
                                                       str(first["payment_date"])),
                                            leaf("DefaultCurrency", "GBP"), leaf("Sender", "Employer")])
        emp_refs = Node("EmpRefs", children=[leaf(name, refs[name]) for name in S.ORDER["EmpRefs"] if refs.get(name)])
        year = self.tax_year
        text = [DECLARATION]
        self._open(text, Node("GovTalkMessage", attributes={"xmlns": S.ENVELOPE_NS}))
        text += [*lines(leaf("EnvelopeVersion", "2.0"), 1), *lines(Node("Header", children=[details]), 1),
                 *lines(Node("GovTalkDetails", children=[keys]), 1)]
        self._open(text, Node("Body"))
        self._open(text, Node("IRenvelope", attributes={"xmlns": S.NAMESPACE_OF_YEAR[year]}))
        text += lines(header, self.depth)
        self._open(text, Node("FullPaymentSubmission"))
        text += [*lines(emp_refs, self.depth), *lines(leaf("RelatedTaxYear", year[2:]), self.depth)]
        self.out.write("\n".join(text) + "\n")

    def _open(self, text: list[str], node: Node) -> None:
        text.append(open_tag(node, self.depth))
        self.depth += 1

    def _finish(self) -> None:
        if self.out is None:
            raise AdapterError(f"{self.target}: no payslip could be written (each needs its hr.person before it), so "
                               f"no FPS was made; see the rejected messages")
        text = []
        if self.options.final:
            text += lines(Node("FinalSubmission", children=[leaf("ForYear", "yes")]), self.depth)
        for name in ("FullPaymentSubmission", "IRenvelope", "Body", "GovTalkMessage"):
            self.depth -= 1
            text.append(close_tag(name, self.depth))
        self.out.write("\n".join(text) + "\n")

    def _close(self, finished: bool) -> None:
        if self.out is not None:
            self.out.close(finished)


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecordError):
        return exc.reason
    return garbled_reason(exc, "the FPS")


def _write_options(settings: dict[str, str]) -> _Options:
    options = _Options()
    reference = settings.get("paye_reference")
    accounts = settings.get("accounts_office_reference")
    if bool(reference) != bool(accounts):
        raise AdapterError("give --option paye_reference=... and --option accounts_office_reference=... together "
                           "(or neither, to use those kept on payslips read from an FPS)")
    if reference and accounts:
        office, _, ref = reference.partition("/")
        if not S.OFFICE_NUMBER.fullmatch(office) or not S.OFFICE_REFERENCE.fullmatch(ref):
            raise AdapterError(f"option paye_reference={reference!r} is not a PAYE reference such as 991/FM00123")
        try:
            S.accounts_office_reference(accounts, "option accounts_office_reference")
        except RecordError as exc:
            raise AdapterError(exc.reason) from None
        options.refs = {"OfficeNo": office, "PayeRef": ref, "AORef": accounts}
    if settings.get("period_end"):
        try:
            options.period_end = dt.date.fromisoformat(settings["period_end"]).isoformat()
        except ValueError:
            raise AdapterError(f"option period_end={settings['period_end']!r} is not a date such as 2025-09-25") \
                from None
    final = settings.get("final_submission", "no").lower()
    if final not in ("yes", "no"):
        raise AdapterError(f"option final_submission={final!r}: use yes or no")
    options.final = final == "yes"
    text = settings.get("max_pending", "1000")
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise AdapterError(f"option max_pending={text!r}: give a whole number from 1 to 1000000")
    options.max_pending = int(text)
    return options
