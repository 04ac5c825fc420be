"""Reading an FPS document: the envelope is checked as it streams past, and each Employee is handed on whole.

Only one Employee element is held at a time: when it ends it is handed to the
caller and then removed from the tree, as is every other part of the
submission once read, so memory stays flat for any number of employees.
Whole-document problems (not an FPS, an unknown namespace, references that
contradict each other) raise :class:`AdapterError`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

from plugshare.adapters.contract import AdapterError, RecordError
from plugshare.adapters.rti_fps import schema as S
from plugshare.adapters.rti_fps.document import events, local

#: elements whose children are parts of the submission, removed from the tree once read
CONTAINERS = frozenset({"GovTalkMessage", "Body", "IRenvelope", "FullPaymentSubmission"})


@dataclass
class Submission:
    """What the envelope says about the employees that follow."""

    namespace: str = ""
    tax_year: str = ""
    #: EmpRefs children by native name (OfficeNo, PayeRef, AORef, and any others)
    employer: dict[str, str] = field(default_factory=dict)
    header_keys: dict[str, str] = field(default_factory=dict)
    #: RelatedTaxYear, which must be the namespace's year
    related_year: str = ""


def employees(path: str) -> Iterator[tuple[int, int, ET.Element, Submission]]:
    """(employee number from 1, line of its start tag, the Employee element, the submission)."""
    submission = Submission()
    stack: list[ET.Element] = []
    starts: list[int] = []
    count = 0
    seen_fps = False
    for event, element, line in events(path):
        namespace, name = local(element.tag)
        if event == "start":
            if not stack:
                _root(path, line, namespace, name)
            if name == "IRenvelope" and namespace != S.ENVELOPE_NS:
                submission.namespace, submission.tax_year = _fps_namespace(path, line, namespace)
            if name == "FullPaymentSubmission" and namespace == submission.namespace:
                seen_fps = True
            stack.append(element)
            starts.append(line)
            continue
        stack.pop()
        start = starts.pop()
        parent = stack[-1] if stack else None
        parent_name = local(parent.tag)[1] if parent is not None else ""
        if parent_name == "FullPaymentSubmission" and namespace == submission.namespace:
            if name == "Employee":
                if not submission.employer or not submission.related_year:
                    raise AdapterError(f"{path} line {start}: an Employee comes before the EmpRefs and "
                                       f"RelatedTaxYear; an FPS gives them first")
                count += 1
                yield count, start, element, submission
            else:
                _part(path, start, name, element, submission)
        elif parent_name == "FullPaymentSubmission" and parent is not None and \
                local(parent.tag)[0] == submission.namespace:
            raise AdapterError(f"{path} line {start}: <{name}> in namespace {namespace or '(none)'!r} is inside the "
                               f"FullPaymentSubmission; its parts are in the FPS namespace {submission.namespace}")
        elif name == "Class" and parent_name == "MessageDetails":
            _message_class(path, start, (element.text or "").strip())
        elif name == "Key" and parent_name == "Keys" and len(stack) >= 2 and local(stack[-2].tag)[1] == "IRheader":
            submission.header_keys[element.get("Type", "")] = (element.text or "").strip()
        if parent is not None and parent_name in CONTAINERS:
            parent.remove(element)
    if not seen_fps:
        raise AdapterError(f"{path}: there is no FullPaymentSubmission in the IRenvelope; this is not an FPS")
    if not count:
        raise AdapterError(f"{path}: the FPS holds no Employee; an FPS reports at least one employee's payment")


def _root(path: str, line: int, namespace: str, name: str) -> None:
    if (namespace, name) == (S.ENVELOPE_NS, "GovTalkMessage") or name == "IRenvelope":
        return
    raise AdapterError(f"{path} line {line}: the document is <{name}>"
                       f"{f' in namespace {namespace}' if namespace else ''}; an FPS is a GovTalkMessage (namespace "
                       f"{S.ENVELOPE_NS}) or its IRenvelope")


def _fps_namespace(path: str, line: int, namespace: str) -> tuple[str, str]:
    known = ", ".join(f"{suffix} ({year})" for suffix, year in S.KNOWN_NAMESPACES.items())
    if namespace.startswith(S.RTI_NS_PREFIX) and not namespace.startswith(S.FPS_NS_PREFIX):
        kind = namespace[len(S.RTI_NS_PREFIX):].split("/")[0]
        what = S.OTHER_RTI_MESSAGES.get(kind, f"an RTI {kind} message")
        raise AdapterError(f"{path} line {line}: the IRenvelope is {what}, not a Full Payment Submission; this "
                           f"adapter reads FPS files only")
    if not namespace.startswith(S.FPS_NS_PREFIX):
        raise AdapterError(f"{path} line {line}: the IRenvelope's namespace {namespace or '(none)'!r} is not an "
                           f"FPS namespace ({S.FPS_NS_PREFIX}<year>/<version>)")
    suffix = namespace[len(S.FPS_NS_PREFIX):]
    if suffix not in S.KNOWN_NAMESPACES:
        raise AdapterError(f"{path} line {line}: the FPS namespace {namespace} (schema {suffix}) is unknown to this "
                           f"adapter, which reads the FPS of the tax years {known}; a newer adapter may read it")
    return namespace, S.KNOWN_NAMESPACES[suffix]


def _message_class(path: str, line: int, text: str) -> None:
    if text and text != S.MESSAGE_CLASS:
        raise AdapterError(f"{path} line {line}: the GovTalk message class is {text!r}, not {S.MESSAGE_CLASS}; "
                           f"this adapter reads Full Payment Submissions only")


def _part(path: str, line: int, name: str, element: ET.Element, submission: Submission) -> None:
    where = f"{path} line {line}"
    try:
        if name == "EmpRefs":
            refs = {local(child.tag)[1]: (child.text or "").strip() for child in element}
            for required in ("OfficeNo", "PayeRef", "AORef"):
                if not refs.get(required):
                    raise RecordError(f"EmpRefs has no {required}; an FPS names the employer's PAYE scheme")
            if not S.OFFICE_NUMBER.fullmatch(refs["OfficeNo"]) or not S.OFFICE_REFERENCE.fullmatch(refs["PayeRef"]):
                raise RecordError(f"EmpRefs: {refs['OfficeNo']}/{refs['PayeRef']} is not a PAYE reference (a "
                                  f"3-digit tax office number and up to 10 capital letters or digits)")
            S.accounts_office_reference(refs["AORef"], "EmpRefs/AORef")
            _matches_header(refs, submission.header_keys)
            submission.employer = refs
        elif name == "RelatedTaxYear":
            year = S.rti_year((element.text or "").strip(), "RelatedTaxYear")
            if year != submission.tax_year:
                raise RecordError(f"RelatedTaxYear is {year} but the namespace is the FPS of {submission.tax_year}; "
                                  f"each tax year has its own FPS schema")
            submission.related_year = year
        elif name != "FinalSubmission":
            raise RecordError(f"<{name}> is not part of a FullPaymentSubmission (it holds "
                              f"{', '.join(S.SUBMISSION_PARTS)})")
    except RecordError as exc:
        raise AdapterError(f"{where}: {exc.reason}") from None


def _matches_header(refs: dict[str, str], keys: dict[str, str]) -> None:
    for key, native in (("TaxOfficeNumber", "OfficeNo"), ("TaxOfficeReference", "PayeRef")):
        if key in keys and keys[key] != refs[native]:
            raise RecordError(f"the IRheader key {key} is {keys[key]!r} but EmpRefs {native} is {refs[native]!r}; "
                              f"they must match (HMRC refuses the submission otherwise)")
