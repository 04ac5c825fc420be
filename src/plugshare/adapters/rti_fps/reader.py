"""Reading an FPS document: the envelope is checked as it streams past, and each Employee is handed on whole.

Only one Employee element is held at a time: when it ends it is handed to the
caller and then removed from the tree, as is every other part of the
submission once read, so memory stays flat for any number of employees.
Whole-document problems (not an FPS, an unknown namespace, references that
contradict each other, an Employee outside the FullPaymentSubmission, an element
in one of the containers that is not one of its parts) raise
:class:`AdapterError` naming the line, so that nothing in the submission is
left unread.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

from plugshare.adapters.contract import AdapterError, RecordError
from plugshare.adapters.rti_fps import schema as S
from plugshare.adapters.rti_fps.document import events, local

#: the containers of the submission, by their path from the root, and the parts each holds; their parts are
#: removed from the tree once read, and anything else in them is an error rather than left unread
GOVTALK_PARTS = ("EnvelopeVersion", "Header", "GovTalkDetails", "Body")
ENVELOPE_PARTS = ("IRheader", "FullPaymentSubmission")
CONTAINERS = {
    ("GovTalkMessage",): GOVTALK_PARTS,
    ("GovTalkMessage", "Body"): ("IRenvelope",),
    ("GovTalkMessage", "Body", "IRenvelope"): ENVELOPE_PARTS,
    ("GovTalkMessage", "Body", "IRenvelope", "FullPaymentSubmission"): S.SUBMISSION_PARTS,
    ("IRenvelope",): ENVELOPE_PARTS,
    ("IRenvelope", "FullPaymentSubmission"): S.SUBMISSION_PARTS,
}
DEEPEST = max(map(len, CONTAINERS))


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
    names: list[str] = []
    starts: list[int] = []
    count = 0
    seen_fps = False
    for event, element, line in events(path):
        namespace, name = local(element.tag)
        if event == "start":
            parts = _parts_of(names)
            if not stack:
                _root(path, line, namespace, name)
            elif parts is not None:
                _placed(path, line, names[-1], parts, namespace, name, submission)
            elif name == "Employee":
                _misplaced(path, line, names[-1])
            if name == "IRenvelope" and (not stack or parts is not None):
                submission.namespace, submission.tax_year = _fps_namespace(path, line, namespace)
            if name == "FullPaymentSubmission" and parts is not None:
                seen_fps = True
            stack.append(element)
            names.append(name)
            starts.append(line)
            continue
        stack.pop()
        names.pop()
        start = starts.pop()
        parent = stack[-1] if stack else None
        parent_name = names[-1] if names else ""
        container = _parts_of(names) is not None
        if container and parent_name == "FullPaymentSubmission":
            if name == "Employee":
                if not submission.employer or not submission.related_year:
                    raise AdapterError(f"{path} line {start}: an Employee comes before the EmpRefs and "
                                       f"RelatedTaxYear; an FPS gives them first")
                count += 1
                yield count, start, element, submission
            else:
                _part(path, start, name, element, submission)
        elif name == "Class" and parent_name == "MessageDetails":
            _message_class(path, start, (element.text or "").strip())
        elif name == "Key" and parent_name == "Keys" and len(stack) >= 2 and names[-2] == "IRheader":
            submission.header_keys[element.get("Type", "")] = (element.text or "").strip()
        if container and parent is not None:
            parent.remove(element)
    if not seen_fps:
        raise AdapterError(f"{path}: there is no FullPaymentSubmission in the IRenvelope; this is not an FPS")
    if not count:
        raise AdapterError(f"{path}: the FPS holds no Employee; an FPS reports at least one employee's payment")


def _parts_of(names: list[str]) -> tuple[str, ...] | None:
    """The parts the element at this path holds when it is a container of the submission, else None."""
    return CONTAINERS.get(tuple(names)) if len(names) <= DEEPEST else None


def _placed(path: str, line: int, parent: str, parts: tuple[str, ...], namespace: str, name: str,
            submission: Submission) -> None:
    """A child of a container must be one of its parts, in its namespace: nothing in the submission goes unread."""
    expected = {"GovTalkMessage": S.ENVELOPE_NS, "Body": None}.get(parent, submission.namespace)
    if expected is not None and namespace != expected:
        which = "the GovTalk envelope namespace" if expected == S.ENVELOPE_NS else "the FPS namespace"
        raise AdapterError(f"{path} line {line}: <{name}> in namespace {namespace or '(none)'!r} is inside the "
                           f"{parent}; its parts are in {which} {expected}")
    if name == "Employee" and name not in parts:
        _misplaced(path, line, parent)
    if name not in parts:
        raise AdapterError(f"{path} line {line}: <{name}> is not part of {_article(parent)} {parent} (it holds "
                           f"{', '.join(parts)}), so it would not be read: correct the file or ask for it again")


def _misplaced(path: str, line: int, parent: str) -> None:
    raise AdapterError(f"{path} line {line}: an <Employee> is inside <{parent}>, not in the FullPaymentSubmission, "
                       f"so it would not be read; an FPS gives each employee directly in its FullPaymentSubmission: "
                       f"correct the file or ask for it again")


def _article(name: str) -> str:
    return "an" if name[0] in "AEIOU" else "a"


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
            _text_only(element, "EmpRefs", holds_elements=True)
            refs: dict[str, str] = {}
            for child in element:
                part = local(child.tag)[1]
                _text_only(child, f"EmpRefs/{part}")
                if part in refs:
                    raise RecordError(f"EmpRefs/{part} appears twice; an FPS names one PAYE scheme")
                refs[part] = (child.text or "").strip()
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
            _text_only(element, "RelatedTaxYear")
            year = S.rti_year((element.text or "").strip(), "RelatedTaxYear")
            if year != submission.tax_year:
                raise RecordError(f"RelatedTaxYear is {year} but the namespace is the FPS of {submission.tax_year}; "
                                  f"each tax year has its own FPS schema")
            submission.related_year = year
    except RecordError as exc:
        raise AdapterError(f"{where}: {exc.reason}") from None


def _text_only(element: ET.Element, where: str, holds_elements: bool = False) -> None:
    """An element read for its text (or, ``holds_elements``, its children) has nothing else that would go unread."""
    if element.attrib:
        raise RecordError(f"{where} has attribute {local(next(iter(element.attrib)))[1]}, which the FPS does not "
                          f"define for it")
    if not holds_elements and len(element):
        raise RecordError(f"{where} holds elements where the FPS has text")


def _matches_header(refs: dict[str, str], keys: dict[str, str]) -> None:
    for key, native in (("TaxOfficeNumber", "OfficeNo"), ("TaxOfficeReference", "PayeRef")):
        if key in keys and keys[key] != refs[native]:
            raise RecordError(f"the IRheader key {key} is {keys[key]!r} but EmpRefs {native} is {refs[native]!r}; "
                              f"they must match (HMRC refuses the submission otherwise)")
