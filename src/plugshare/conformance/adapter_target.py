"""An adapter as a conformance target: its round trip through the corpus and its own samples.

The suite streams the corpus messages of the types under test for the adapter's council to the adapter's
writer, into a temporary file, reads that file back with its reader, and pairs each message written with the
record read back: by type and id, or, where the writer reported the id lost (a format keyed by its own
references), by the record of that type that restores the most of it. The checks judge the pairs:
completeness (PSC-EXP-001: one outcome per message, nothing missing, nothing invented), fidelity
(PSC-EXP-002: every value back as written, none added) and no silent loss (PSC-ADP-001). A message the
writer gave no outcome for is judged as written with nothing reported lost. A writer that refuses every
corpus message of a type it reads (a format that can only key records it made itself) is given its own
sample's messages instead; that, and any message refused with a reason, is said in the report's
readiness. A read-only adapter has no round trip; what it reads comes from its samples, declared in a
``samples.json`` manifest (:mod:`plugshare.samples`), served on a loopback port when the sample is an API's
pages.
"""

from __future__ import annotations

import copy
import inspect
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugshare.adapters.contract import Adapter, AdapterError, Converted, Outcome
from plugshare.adapters.hr_rest.samples import loopback_api
from plugshare.adapters.loss import not_restored
from plugshare.conformance.context import AdapterContext, RoundTrip
from plugshare.conformance.corpus import Corpus, load, rewrite_council, short_type
from plugshare.conformance.model import CheckNotApplicable, CheckSkipped, Finding, Profile
from plugshare.conformance.profiles import load_profiles, types_under_test
from plugshare.models.canonical import canonical_json
from plugshare.plugins import PluginHost, make_host
from plugshare.samples import MANIFEST, SAMPLES_ROOT, SampleConversion, sample_conversions
from plugshare.synthetic import COUNCILS
from plugshare.validation.schemas import SENSITIVE_FIELDS
from plugshare.validation.validator import MessageValidator

#: the sample whose one bad record PSC-ADP-002 reads
ONE_BAD_RECORD = "one-bad-record"
#: envelope attributes an adapter makes afresh when it reads: not compared by PSC-EXP-002
FRESH_ATTRIBUTES = ("id", "time", "source", "dataschema")
#: options an adapter may declare whose value the corpus knows for each of its councils
COUNCIL_FACTS = {
    "billing_authority": lambda c: c.billing_authority_code,
    "paye_reference": lambda c: c.paye_reference,
    "accounts_office_reference": lambda c: c.accounts_office_reference,
}
#: at most this many findings per check; the last says how many more there were
MAX_FINDINGS = 50


def derived_profiles(adapter_cls: type[Adapter], known: Mapping[str, Profile] | None = None) -> tuple[str, ...]:
    """The profiles an adapter certifies for: those it declares, else the domain profiles sharing a message
    type with it, plus portability when it writes a type it also reads."""
    declared = tuple(getattr(adapter_cls, "conformance_profiles", ()) or ())
    if declared:
        return declared
    known = load_profiles() if known is None else known
    carried = set(adapter_cls.reads) | set(adapter_cls.writes)
    found = [p.id for p in known.values() if p.message_types and "adapter" in p.targets
             and carried & set(p.message_types)]
    if set(adapter_cls.reads) & set(adapter_cls.writes) and "portability" in known:
        found.append("portability")
    return tuple(found)


def adapter_samples(adapter_cls: type[Adapter]) -> list[SampleConversion]:
    """The sample conversions declared for an adapter: the built-in manifests', then a ``samples/samples.json``
    beside the adapter's module (where a plugin keeps its own)."""
    found = [c for c in sample_conversions(SAMPLES_ROOT) if c.adapter == adapter_cls.key]
    try:
        here = Path(inspect.getfile(adapter_cls)).resolve().parent
    except (TypeError, OSError):
        return found
    if (here / "samples" / MANIFEST).is_file() and here != SAMPLES_ROOT:
        found += [c for c in sample_conversions(here) if c.adapter == adapter_cls.key and c not in found]
    return found


def _covers(lost: Iterable[str], pointer: str) -> bool:
    """A pointer reported lost names ``pointer`` itself or a value enclosing it."""
    return any(pointer == item or pointer.startswith(item.rstrip("/") + "/") for item in lost)


def other_extensions(message: dict[str, Any], namespace: str) -> list[str]:
    """Pointers of the extensions under namespaces other than the adapter's that hold something: a native
    format restores only its own fields, and the conversion reports these for every writer."""
    extensions = (message.get("data") or {}).get("extensions") or {}
    return [f"/data/extensions/{str(name).replace('~', '~0').replace('/', '~1')}"
            for name, value in extensions.items() if name != namespace and value not in (None, "", {}, [])]


def record_name(message: dict[str, Any]) -> str:
    data = message.get("data") if isinstance(message.get("data"), dict) else {}
    return f"{short_type(message) or message.get('type')} {data.get('id') or message.get('subject') or '?'}"


def unsaid(message: dict[str, Any], back: dict[str, Any] | None, lost: list[str], namespace: str) -> list[str]:
    """The values of ``message`` that ``back`` does not restore and the writer did not report lost."""
    data = message.get("data")
    if not isinstance(data, dict):
        return []
    restored = back.get("data") if isinstance(back, dict) and isinstance(back.get("data"), dict) else None
    return [p for p in not_restored(data, restored, namespace) if not _covers(lost, p)]


@dataclass
class AdapterRoundTrip(RoundTrip):
    """The round trip with what the checks judge: each message written paired with what came back.

    ``pairs`` holds, for each message written of a type the adapter reads (and not wholly reported lost),
    the record read back for it or None; ``extra`` the records read back that no message written matches;
    ``source`` what was written (the corpus, or the adapter's own sample); ``failure`` why the round trip
    could not be made at all (the writer or the reader refused the whole input); ``not_applicable`` why
    there is no round trip (the adapter does not write, or writes to a URL).
    """

    pairs: list[tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    uncarried: list[dict[str, Any]] = field(default_factory=list)
    source: str = "corpus"
    failure: str | None = None
    not_applicable: str | None = None
    namespace: str = ""
    #: the corpus's refusals when the adapter's sample was written instead
    corpus_rejections: list[dict[str, Any]] = field(default_factory=list)
    #: messages given to the writer that it gave no outcome for (neither converted nor rejected); they are
    #: judged as written with nothing reported lost
    unanswered: list[dict[str, Any]] = field(default_factory=list)
    #: outcomes the writer gave beyond one per message: a position no message was given at, or given twice
    stray: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class AdapterTarget(AdapterContext):
    """The adapter context the CLI runs checks against; see :func:`open_adapter_context`."""

    host: PluginHost | None = None
    council: str = ""
    #: the options the round trip gives the adapter: the samples', the council's facts, then those given
    effective_options: dict[str, str] = field(default_factory=dict)
    _workdir: Path | None = None
    _round_trip: AdapterRoundTrip | None = None
    _samples: dict[str, list[Outcome]] = field(default_factory=dict)

    # --- samples ----------------------------------------------------------------------------------

    def sample(self, name: str) -> SampleConversion | None:
        """The adapter's sample ``name`` that it reads (from its key to anything)."""
        assert self.adapter_cls is not None
        for conversion in adapter_samples(self.adapter_cls):
            if conversion.name == name and conversion.from_key == self.key:
                return conversion
        return None

    def reading_samples(self) -> list[str]:
        """The names of the samples the adapter reads, but for the one meant to hold a bad record."""
        assert self.adapter_cls is not None
        return [c.name for c in adapter_samples(self.adapter_cls)
                if c.from_key == self.key and c.name != ONE_BAD_RECORD]

    def read_sample(self, name: str) -> list[Outcome]:
        """The outcomes of reading the adapter's own sample ``name`` with the sample's options (cached).

        Raises CheckSkipped when the adapter has no such sample, and AdapterError when it refuses the whole
        input.
        """
        if name in self._samples:
            return self._samples[name]
        conversion = self.sample(name)
        if conversion is None:
            raise CheckSkipped(f"the {self.key} adapter has no sample {name!r} that it reads: declare one in a "
                               f"samples/{MANIFEST} beside the adapter's module (see plugshare.samples)")
        assert self.adapter_cls is not None
        declared = {option.name for option in self.adapter_cls.options}
        with ExitStack() as stack:
            source, options = str(conversion.input), dict(conversion.options)
            if conversion.serve == "odata":
                api = stack.enter_context(loopback_api(conversion.input))
                source, options = api.base_url, {**api.options(), **options}
            adapter = self.adapter_cls({k: v for k, v in options.items() if k in declared})
            outcomes = list(adapter.read(source))
        self._samples[name] = outcomes
        return outcomes

    # --- the round trip -----------------------------------------------------------------------------

    def round_trip(self) -> AdapterRoundTrip:
        """Write the corpus messages of the types under test, read the output back, pair them; computed once."""
        if self._round_trip is None:
            self._round_trip = self._make_round_trip()
        return self._round_trip

    def _make_round_trip(self) -> AdapterRoundTrip:
        cls = self.adapter_cls
        assert cls is not None
        namespace = cls(self.effective_options).extension_namespace if cls.writes else ""
        trip = AdapterRoundTrip(namespace=namespace)
        if not cls.writes:
            trip.not_applicable = f"the {self.key} adapter does not write, so there is no round trip"
            return trip
        if cls.source_kind == "url":
            trip.not_applicable = (f"the {self.key} adapter writes to a URL; the suite writes adapters' output to "
                                   "temporary files only")
            return trip
        types = [t for t in self.types if t in cls.writes]
        if not types:
            trip.not_applicable = (f"the {self.key} adapter writes none of the types under test "
                                   f"({', '.join(self.types) or 'none'})")
            return trip
        self._write_and_read(trip, self._corpus_messages(types), "corpus")
        comparable = [t for t in types if t in cls.reads]
        refused = [t for t in comparable if any(r.get("type") == t for r in trip.rejections)
                   and not any(short_type(m) == t for m in trip.written)]
        fallback = "good" if "good" in self.reading_samples() else next(iter(self.reading_samples()), None)
        if refused and fallback is not None and trip.failure is None:
            own = [rewrite_council(m, self.council) for o in self.read_sample(fallback) if isinstance(o, Converted)
                   for m in o.messages if short_type(m) in types]
            again = AdapterRoundTrip(namespace=namespace, corpus_rejections=list(trip.rejections))
            self._write_and_read(again, own, f"its sample {fallback!r}")
            first = next(r for r in trip.rejections if r.get("type") in refused)
            self.readiness.append({
                "check": "PSC-EXP-001", "need": "round-trip input", "met": True,
                "detail": f"the {self.key} writer refused every corpus message of {', '.join(refused)} (first: "
                          f"{first['reason']}); the round trip writes the {len(own)} messages read from its "
                          f"sample {fallback!r} instead"})
            trip = again
        refusals = [r for r in trip.rejections if r.get("stage") == "write"]
        if refusals and trip.failure is None:  # refused with a reason: not judged, but never out of sight
            self.readiness.append({
                "check": "PSC-EXP-001", "need": "round-trip input", "met": True,
                "detail": f"the {self.key} writer refused {len(refusals)} of the messages given ({trip.source}); "
                          f"they are not compared. First: {refusals[0].get('record') or 'a message'}: "
                          f"{refusals[0]['reason']}"})
        return trip

    def _corpus_messages(self, types: list[str]) -> Iterator[dict[str, Any]]:
        """The corpus messages of the council under test, streamed from the corpus file; a council the corpus
        lacks gets the primary's."""
        corpus = self.corpus
        assert isinstance(corpus, Corpus)
        if self.council in corpus.councils:
            return corpus.messages(self.council, types)
        primary = corpus.councils[0]
        return (rewrite_council(m, self.council) for m in corpus.messages(primary, types))

    def _workspace(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="plugshare-conformance-"))
        return self._workdir

    def _target_path(self, label: str) -> Path:
        assert self.adapter_cls is not None
        folder = self._workspace() / label
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ""
        for conversion in adapter_samples(self.adapter_cls):
            if conversion.to_key == self.key and conversion.output_equals and conversion.output_equals.is_file():
                suffix = conversion.output_equals.suffix
        return folder / f"round-trip{suffix}"

    def _write_and_read(self, trip: AdapterRoundTrip, messages: Iterable[dict[str, Any]], source: str) -> None:
        """Stream ``messages`` to the writer, each as a copy (a writer that changes the message it was handed
        must not hide a loss), account for one outcome per message, then read the output back and pair."""
        cls = self.adapter_cls
        assert cls is not None
        trip.source = source
        given: list[dict[str, Any]] = []

        def feed() -> Iterator[dict[str, Any]]:
            for message in messages:
                given.append(message)
                yield copy.deepcopy(message)

        target = self._target_path("corpus" if source == "corpus" else "sample")
        answered: set[int] = set()
        try:
            for outcome in cls(self.effective_options).write(feed(), str(target)):
                index = outcome.position.record - 1
                original = given[index] if 0 <= index < len(given) else None
                if original is None or index in answered:
                    trip.stray.append(f"{type(outcome).__name__} at record {outcome.position.record}"
                                      + (" again" if original is not None else f" of {len(given)} given"))
                    continue
                answered.add(index)
                if isinstance(outcome, Converted):
                    trip.written.append(original)
                    trip.lost[str(original.get("id"))] = [*outcome.lost, *other_extensions(original, trip.namespace)]
                else:
                    trip.rejections.append({"stage": "write", "id": original.get("id"), "type": short_type(original),
                                            "record": record_name(original), "reason": outcome.reason,
                                            "requirement": outcome.requirement})
        except AdapterError as exc:
            trip.failure = f"the writer refused the whole input of {len(given)} messages: {exc}"
            trip.rejections.append({"stage": "write", "id": None, "reason": str(exc), "requirement": None})
            return
        for index, message in enumerate(given):
            if index not in answered:  # neither written nor rejected, and nothing said: judged as written
                trip.unanswered.append(message)
                trip.written.append(message)
                trip.lost[str(message.get("id"))] = other_extensions(message, trip.namespace)
        if not trip.written:
            return
        if not target.exists():
            trip.failure = f"the writer accepted {len(trip.written)} messages but wrote no {target.name}"
            return
        try:
            for outcome in cls(self.effective_options).read(str(target)):
                if isinstance(outcome, Converted):
                    trip.read_back.extend(outcome.messages)
                else:
                    trip.rejections.append({"stage": "read", "id": None, "record": str(outcome.position),
                                            "reason": outcome.reason, "requirement": outcome.requirement})
        except AdapterError as exc:
            trip.failure = f"its own output could not be read back: {exc}"
            trip.rejections.append({"stage": "read", "id": None, "reason": str(exc), "requirement": None})
            return
        _pair(trip, set(cls.reads))

    def close(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


def _pair(trip: AdapterRoundTrip, reads: set[str]) -> None:
    """Pair each message written of a type the adapter reads with the record read back for it."""
    written = [m for m in trip.written if short_type(m) in reads]
    back = trip.read_back  # a record of a type never written is extra too: a reader must not invent records
    by_key: dict[tuple[str | None, Any], list[int]] = {}
    for index, message in enumerate(back):
        by_key.setdefault((short_type(message), (message.get("data") or {}).get("id")), []).append(index)
    used: set[int] = set()
    pairs: dict[int, int | None] = {}
    by_content: list[int] = []
    for number, message in enumerate(written):
        lost = trip.lost.get(str(message.get("id")), [])
        if _covers(lost, "/data"):
            trip.uncarried.append(message)
            continue
        if _covers(lost, "/data/id"):
            by_content.append(number)
            continue
        key = (short_type(message), (message.get("data") or {}).get("id"))
        free = [i for i in by_key.get(key, []) if i not in used]
        pairs[number] = free[0] if free else None
        if free:
            used.add(free[0])
    for message in trip.uncarried:  # reported wholly lost: whatever is still read back for it is not invented
        key = (short_type(message), (message.get("data") or {}).get("id"))
        free = [i for i in by_key.get(key, []) if i not in used]
        if free:
            used.add(free[0])
    # a record whose id the format cannot keep is matched by the values it restores
    scored = sorted((len(unsaid(written[n], back[i], trip.lost.get(str(written[n].get("id")), []), trip.namespace)),
                     n, i)
                    for n in by_content for i in range(len(back))
                    if i not in used and short_type(back[i]) == short_type(written[n]))
    for _, number, index in scored:
        if number in pairs or index in used:
            continue
        pairs[number] = index
        used.add(index)
    for number in by_content:
        pairs.setdefault(number, None)
    trip.pairs = [(written[n], back[i] if i is not None else None) for n, i in sorted(pairs.items())]
    trip.extra = [b for i, b in enumerate(back) if i not in used]


def effective_options(adapter_cls: type[Adapter], given: Mapping[str, str],
                      corpus: Corpus | None = None) -> tuple[str, dict[str, str]]:
    """The council under test and the options the round trip uses.

    Layered, each over the one before: the options of the adapter's own write (or read) sample, the
    council's facts from the corpus (billing authority, PAYE and Accounts Office references) for options the
    adapter declares under those names, the corpus's extract time, then the options given.
    """
    declared = {option.name for option in adapter_cls.options}
    samples = adapter_samples(adapter_cls)
    writing = [c for c in samples if c.to_key == adapter_cls.key] or [c for c in samples
                                                                        if c.from_key == adapter_cls.key]
    base = {k: v for k, v in (writing[0].options if writing else {}).items() if k in declared}
    primary = corpus.councils[0] if corpus is not None and corpus.councils else COUNCILS[0].gss_code
    council = given.get("council") or base.get("council") or primary
    options = dict(base)
    facts = next((c for c in COUNCILS if c.gss_code == council), None)
    if "council" in declared:
        options["council"] = council
    if facts is not None:
        for name, fact in COUNCIL_FACTS.items():
            if name in declared and name not in given:
                options[name] = fact(facts)
    if "as_at" in declared and "as_at" not in options and corpus is not None:
        first = next(corpus.messages(), None)
        if first is not None and isinstance(first.get("time"), str):
            options["as_at"] = first["time"]
    options.update({k: v for k, v in given.items() if v != ""})
    return council, options


def open_adapter_context(key: str, options: Mapping[str, str] | None, *, profiles: list[Profile],
                         types: Iterable[str] | None = None, host: PluginHost | None = None,
                         corpus: Corpus | None = None) -> AdapterTarget:
    """The context for running checks against the adapter ``key`` with ``options``.

    ``types`` are the types under test; when none are given they are worked out from the profiles and what
    the adapter carries. Raises PluginError for an unknown adapter and AdapterError for options it refuses.
    """
    host = host or make_host()
    cls = host.adapter(key)
    given = dict(options or {})
    unknown = sorted(set(given) - {option.name for option in cls.options})
    if unknown:
        raise AdapterError(f"the {key} adapter has no option {', '.join(unknown)}; its options are: "
                           f"{', '.join(option.name for option in cls.options) or 'none'}")
    corpus = corpus or load()
    council, effective = effective_options(cls, given, corpus)
    if cls.writes:  # options the writer refuses (unknown, missing, malformed) fail here, before any check
        cls(effective)
    carried = tuple(dict.fromkeys((*cls.reads, *cls.writes)))
    chosen = tuple(types or ()) or types_under_test(profiles, carried, restrict=True)
    declaration = {**cls.describe(), "conformance_profiles": list(derived_profiles(cls))}
    return AdapterTarget(key=key, adapter_cls=cls, options=given, profiles=list(profiles),
                         types=tuple(t for t in chosen if t in carried), corpus=corpus, declaration=declaration,
                         declared_profiles=list(derived_profiles(cls)), validator=MessageValidator(), host=host,
                         council=council, effective_options=effective)


# --- what PSC-EXP-001 and PSC-EXP-002 ask of an adapter --------------------------------------------------


def round_trip_of(ctx: AdapterContext) -> AdapterRoundTrip:
    trip = ctx.round_trip()
    if getattr(trip, "not_applicable", None):
        raise CheckNotApplicable(trip.not_applicable)
    return trip


def require_comparable(trip: AdapterRoundTrip, key: str) -> None:
    """Skip when nothing written can be looked for in what is read back, saying why."""
    if trip.failure is None and not trip.pairs:
        refused = [r for r in trip.rejections if r.get("stage") == "write"]
        if trip.uncarried:
            why = (f"the writer reported every value of the {len(trip.uncarried)} messages it accepted lost "
                   "(Converted.lost names /data)")
        elif refused:
            why = f"the writer refused all {len(refused)} messages given (first: {refused[0]['reason']})"
        elif trip.written:
            why = "none of the messages written is of a type the adapter reads back"
        else:
            why = "no message of the types under test was given to the writer"
        raise CheckSkipped(f"nothing of the {key} round trip can be compared: {why}")


def comparable_round_trip(ctx: AdapterContext, judged: str) -> AdapterRoundTrip:
    """The round trip, when there is something in it to compare; skipped, saying why ``judged`` cannot be."""
    trip = round_trip_of(ctx)
    if trip.failure:
        raise CheckSkipped(f"the round trip failed, so {judged}: {trip.failure}")
    require_comparable(trip, ctx.key)
    return trip


def capped(findings: list[Finding]) -> list[Finding]:
    """At most MAX_FINDINGS findings, the last one counting those left out."""
    if len(findings) <= MAX_FINDINGS:
        return findings
    left = len(findings) - (MAX_FINDINGS - 1)
    return [*findings[:MAX_FINDINGS - 1], Finding(f"and {left} more findings like these")]


def exp_completeness(ctx: AdapterContext) -> list[Finding]:
    """Every message given gets one outcome, and everything the writer accepted comes back when its output
    is read, per type and id, nothing extra."""
    trip = round_trip_of(ctx)
    if trip.failure:
        return [Finding(f"the round trip through the {ctx.key} adapter failed: {trip.failure}",
                        expected="the written output read back", actual="no output to read",
                        requirement="PS-ADP-001")]
    require_comparable(trip, ctx.key)
    findings = [Finding(f"the writer gave no outcome for {record_name(m)}: it was neither converted nor rejected",
                        expected="one outcome (Converted or Rejected) per message given, in order",
                        actual="no outcome", requirement="PS-ADP-001") for m in trip.unanswered]
    if trip.stray:
        findings.append(Finding(f"the writer gave {len(trip.stray)} outcome(s) for no message given: "
                                + ", ".join(trip.stray[:5]), expected="one outcome per message given",
                                actual=f"{len(trip.stray)} more", requirement="PS-ADP-001"))
    findings += [Finding(f"{record_name(m)} was written ({trip.source}) but nothing read back is that record",
                         expected=f"{record_name(m)} read back", actual="missing", requirement="PS-ADP-001")
                 for m, back in trip.pairs if back is None]
    findings += [Finding(f"{record_name(b)} was read back but no message written is that record",
                         expected="only the records written", actual=f"an extra record: {record_name(b)}",
                         requirement="PS-ADP-001")
                 for b in trip.extra]
    findings += [Finding(f"reading its own output rejected {r.get('record') or 'a record'}: {r['reason']}",
                         expected="every record written read back", actual="rejected", requirement="PS-ADP-001")
                 for r in trip.rejections if r.get("stage") == "read"]
    return capped(findings)


def _strip(message: dict[str, Any], lost: list[str]) -> dict[str, Any]:
    """A copy without the attributes an adapter makes afresh and without the values reported lost."""
    copy_ = copy.deepcopy(message)
    for name in FRESH_ATTRIBUTES:
        copy_.pop(name, None)
    if _covers(lost, "/data/id"):
        copy_.pop("subject", None)
    for pointer in sorted(lost, key=_pointer_order, reverse=True):
        _remove(copy_, pointer)
    return copy_


def _pointer_order(pointer: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pointer.split("/")[1:])


def _remove(document: Any, pointer: str) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = document
    for part in parts[:-1]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return
    if not parts:
        return
    last = parts[-1]
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        del node[int(last)]


def _blank(value: Any) -> bool:
    """An empty list or object: it says what an absent one says."""
    return value in ([], {})


#: where a reader may add what its format implies without it having been written: the native key as a source
#: id, its own extensions, the description of a code. Anything else read back that was not written is invented
#: (an end date on an employment that had none, a deduction more on a payslip).
DERIVED = frozenset({"source_ids", "extensions", "description"})
#: values a finding never shows, wherever they are: personal data and bank details
PERSONAL = frozenset({*SENSITIVE_FIELDS, "sort_code", "account_name", "roll_number", "iban", "name", "given_name",
                      "family_name", "address", "party"})
WITHHELD = "(withheld: personal data)"
#: how many differences of one record a finding names with their values
SHOWN = 5


class _Absent:
    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()


def changes(written: Any, back: Any, pointer: str = "", derived: bool = False) -> list[tuple[str, Any, Any]]:
    """Where ``back`` does not hold what was ``written``: (pointer, written value, value read back), with
    :data:`ABSENT` for a member or item on one side only.

    Every value written must come back, at the same place: an object compares its members; a list its items,
    in any order (as the loss rule keeps an item found anywhere in the list), else item by item. Values are
    equal as JSON values and as the loss rule has them: ``37.0`` is ``37``, the number text ``"25.0"`` is
    ``"25"``, but ``"007"`` is not ``"7"``. A value read back where none was written is a change too (an
    invented value), except under the names of :data:`DERIVED`; an empty list or object written and read
    back absent is no change.
    """
    if _same(written, back):
        return []
    if isinstance(written, dict) and isinstance(back, dict):
        found: list[tuple[str, Any, Any]] = []
        for key, value in written.items():
            step = _step(pointer, key)
            if key not in back:
                found += [] if _blank(value) else [(step, value, ABSENT)]
            else:
                found += changes(value, back[key], step, derived or key in DERIVED)
        for key, value in back.items():
            if key not in written and not (derived or key in DERIVED or _blank(value)):
                found.append((_step(pointer, key), ABSENT, value))
        return found
    if isinstance(written, list) and isinstance(back, list):
        if _reordered(written, back, derived):
            return []
        found = []
        for index, item in enumerate(written):
            step = f"{pointer}/{index}"
            found += changes(item, back[index], step, derived) if index < len(back) else [(step, item, ABSENT)]
        if not derived:
            found += [(f"{pointer}/{index}", ABSENT, back[index]) for index in range(len(written), len(back))]
        return found
    return [(pointer or "/", written, back)]


def _same(written: Any, back: Any) -> bool:
    """Equal JSON values; numbers by value, number texts as the loss rule compares them."""
    if canonical_json(written) == canonical_json(back):
        return True
    if isinstance(written, bool) or isinstance(back, bool):
        return False
    if isinstance(written, int | float) and isinstance(back, int | float):
        return written == back
    if isinstance(written, str) and isinstance(back, str):
        return not _text_lost(written, back)
    return False


def _text_lost(written: str, back: str) -> bool:
    """Whether the loss rule counts ``written`` lost when ``back`` is read for it."""
    return bool(not_restored({"v": written}, {"v": back}, ""))


def _reordered(written: list[Any], back: list[Any], derived: bool) -> bool:
    """Each item written is read back, each once, in some order; with ``derived`` more may be read back."""
    if len(back) < len(written) or (len(back) > len(written) and not derived):
        return False
    free = list(range(len(back)))
    for item in written:
        match = next((i for i in free if not changes(item, back[i], derived=derived)), None)
        if match is None:
            return False
        free.remove(match)
    return True


def differences(written: Any, back: Any, pointer: str = "") -> list[str]:
    """JSON pointers of what :func:`changes` finds (values never shown)."""
    return [found for found, _, _ in changes(written, back, pointer)]


def _step(pointer: str, key: Any) -> str:
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"


def shown(pointer: str, value: Any) -> str:
    """``pointer = value`` for a finding: personal values withheld, objects and lists summarised, long text cut."""
    if value is ABSENT:
        return f"{pointer} absent"
    steps = {part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")}
    if steps & PERSONAL:
        return f"{pointer} = {WITHHELD}"
    if isinstance(value, dict):
        return f"{pointer} = an object of {len(value)} member(s)"
    if isinstance(value, list):
        return f"{pointer} = a list of {len(value)} item(s)"
    text = json.dumps(value, ensure_ascii=False)
    return f"{pointer} = {text if len(text) <= 60 else text[:57] + '...'}"


def exp_fidelity(ctx: AdapterContext) -> list[Finding]:
    """Each record read back equals, after canonicalisation, the message written, but for the values the
    writer reported lost and the envelope attributes the adapter makes afresh."""
    trip = comparable_round_trip(ctx, "nothing can be compared")
    findings = []
    for message, back in trip.pairs:
        if back is None:
            continue
        lost = trip.lost.get(str(message.get("id")), [])
        found = changes(_strip(message, lost), _strip(back, lost))
        if found:
            pointers = [p for p, _, _ in found]
            named = ", ".join(pointers[:8]) + (f" and {len(pointers) - 8} more" if len(pointers) > 8 else "")
            findings.append(Finding(
                f"{record_name(message)} read back differs from what was written at {len(found)} place(s): {named}",
                expected="; ".join(shown(p, w) for p, w, _ in found[:SHOWN]),
                actual="; ".join(shown(p, b) for p, _, b in found[:SHOWN]), requirement="PS-ADP-001"))
    return capped(findings)


def value_at(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer of ``document``, or :data:`ABSENT`."""
    node = document
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ABSENT
    return node
