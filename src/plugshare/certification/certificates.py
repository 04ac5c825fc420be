"""Certificates: issued from a passing conformance report, signed, expiring, verified by anyone with the key.

A certificate binds what a buyer needs to rely on (supplier, product and version, the profiles passed, the
versions of the standard and of the suite, the digests of the report and of the capability declaration, the
dates) under the issuer's Ed25519 signature. It is issued only from a complete run in which every MUST check
passed: a partial, failing or edited report is refused with a plain reason. Verification says, in words,
whether it is authentic, current, not revoked and covers the profiles asked for, and if not, which and why.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plugshare.certification import revocations as revocation_lists
from plugshare.certification.keys import (
    KEY_ID,
    DocumentError,
    as_day,
    find_key,
    iso_date,
    key_id,
    parse_document,
    sign,
    signature_problem,
    signature_valid,
    text_problem,
    today,
    write_document,
)
from plugshare.certification.revocations import NUMBER, RevocationError, RevocationList
from plugshare.conformance.report import ReportError, read_report
from plugshare.models.version import STANDARD_VERSION

FORMAT = 1
NOT_AUTHENTIC, NOT_YET_VALID, EXPIRED, REVOKED, MISSING_PROFILE = (
    "not_authentic", "not_yet_valid", "expired", "revoked", "missing_profile")
#: worst first
PROBLEM_KINDS = (NOT_AUTHENTIC, REVOKED, EXPIRED, NOT_YET_VALID, MISSING_PROFILE)
TARGET_KINDS = ("api", "adapter")

_DOCUMENT_FIELDS = frozenset({"plugshare_certificate", "certificate", "signature"})
_CERTIFICATE_FIELDS = frozenset({"number", "supplier", "product", "profiles", "target_kind", "standard_version",
                                 "suite_version", "report_sha256", "declaration_sha256", "issued_on", "expires_on",
                                 "issuer"})
_HEX64 = frozenset("0123456789abcdef")
#: MUST verdicts that show nothing wrong with the target (not applicable: the check had nothing to test)
_MUST_PASSING = frozenset({"pass", "not_applicable"})
_IN_WORDS = {"fail": "failed", "error": "could not finish", "skipped": "was skipped"}


class IssueError(ValueError):
    """A certificate refused: the report does not show what the certificate would claim, or the details given
    cannot go on one. The message says why in plain words."""


class Problem(NamedTuple):
    """One reason a certificate is not valid: its kind (one of PROBLEM_KINDS) and a plain sentence."""

    kind: str
    text: str


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found. ``certificate`` is the signed content when the file had the form of a certificate
    (even if its signature failed: only ``ok`` and the absence of a not_authentic problem make it trustworthy)."""

    ok: bool
    problems: list[Problem]
    certificate: dict[str, Any] | None
    at: dt.date
    profiles: tuple[str, ...] = ()
    #: the revocation list checked (None: revocation was not checked)
    revocations: RevocationList | None = None
    kinds: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(p.kind for p in self.problems))

    @property
    def authentic(self) -> bool:
        return self.certificate is not None and NOT_AUTHENTIC not in self.kinds

    @property
    def status(self) -> str:
        """One word for a register or a page: valid, or the kind of the worst problem."""
        if self.ok:
            return "valid"
        return next(kind for kind in PROBLEM_KINDS if kind in self.kinds)


# --- issuing --------------------------------------------------------------------------------------------


def one_year_after(day: dt.date) -> dt.date:
    """The same day a year later (29 February becomes 28 February)."""
    year = day.year + 1
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _refuse(report_path: Path, reason: str) -> IssueError:
    return IssueError(f"no certificate can be issued from {report_path}: {reason}")


def _read(report_path: Path) -> tuple[dict[str, Any], str]:
    """The report and the SHA-256 of the exact bytes that were checked."""
    try:
        data = report_path.read_bytes()
    except FileNotFoundError:
        raise IssueError(f"{report_path}: no such report") from None
    except OSError as error:
        raise IssueError(f"{report_path} cannot be read ({error.strerror})") from None
    try:
        document = read_report(report_path, standard_version=STANDARD_VERSION)
    except ReportError as error:
        raise IssueError(f"no certificate can be issued: {error}") from None
    try:
        same = json.loads(data.decode("utf-8")) == document
    except (UnicodeDecodeError, json.JSONDecodeError):
        same = False
    if not same:
        raise _refuse(report_path, "the file changed while it was being read; issue again")
    return document, hashlib.sha256(data).hexdigest()


def _check_report(report: dict[str, Any], report_path: Path, profiles: Iterable[str] | None) -> list[str]:
    """The profiles the report shows conformance to, of those asked (default: all it ran); IssueError if it
    does not show them all."""
    results = report["results"]
    if not report["complete"] or report["selected"] or report["verdict"] == "incomplete":
        raise _refuse(report_path, "it is not a complete run: only some checks were run (--only or "
                                   "--rerun-failed); run every check of the profiles and issue from that report")
    faults = [r for r in results if r["level"] == "MUST" and r["verdict"] not in _MUST_PASSING]
    if faults:
        raise _refuse(report_path, "required (MUST) checks did not pass: " + "; ".join(
            f"{r['id']} ({r['title']}) {_IN_WORDS.get(r['verdict'], r['verdict'])}" for r in faults))
    if report["verdict"] != "conforms":
        reasons = [f"{s['profile']}: {s['reason']}" for s in report["profile_summaries"] if s.get("reason")]
        raise _refuse(report_path, "its verdict is that the target does not conform"
                      + (" (" + "; ".join(reasons) + ")" if reasons else ""))
    ran = list(report["profiles"])
    asked = sorted(set(ran if profiles is None else profiles))
    if not asked:
        raise _refuse(report_path, "no profile was run or named, so there is nothing to certify")
    summaries = {s["profile"]: s for s in report["profile_summaries"]}
    for profile in asked:
        if profile not in ran:
            raise _refuse(report_path, f"it is not a run of profile {profile!r} (it ran: {', '.join(ran) or 'none'})"
                                       f"; run the suite with --profile {profile}")
        summary = summaries.get(profile)
        if summary is None or summary["verdict"] != "conforms":
            why = summary["reason"] if summary and summary.get("reason") else "its summary does not say it conforms"
            raise _refuse(report_path, f"profile {profile!r} was not passed: {why}")
        if not any(r["level"] == "MUST" and r["verdict"] == "pass" and profile in r["profiles"] for r in results):
            raise _refuse(report_path, f"profile {profile!r} was not passed: none of its required checks passed")
    return asked


def issue(report_path: Path | str, private_key: Ed25519PrivateKey, *, supplier: str, product: str, version: str,
          issuer_name: str | None = None, profiles: Iterable[str] | None = None, issued_on: dt.date | None = None,
          valid_days: int | None = None, expires_on: dt.date | None = None) -> dict[str, Any]:
    """A signed certificate (the whole document) for the profiles passed in ``report_path`` (default: every
    profile it ran), valid from ``issued_on`` (today) for ``valid_days`` or until ``expires_on`` (default: a
    year). IssueError, saying why, unless the report is a valid, complete run in which every MUST check
    passed and each profile certified conforms."""
    report_path = Path(report_path)
    issuer_name = issuer_name if issuer_name is not None else key_id(private_key.public_key())
    for value, what in ((supplier, "the supplier"), (product, "the product name"), (version, "the product version"),
                        (issuer_name, "the issuer's name")):
        problem = text_problem(value, what)
        if problem:
            raise IssueError(problem)
    issued_on, expires_on = as_day(issued_on) or today(), as_day(expires_on)
    if valid_days is not None and expires_on is not None:
        raise IssueError("give either a number of days the certificate is valid or its expiry date, not both")
    if valid_days is not None:
        if valid_days < 1:
            raise IssueError("a certificate is valid for at least one day")
        expires_on = issued_on + dt.timedelta(days=valid_days)
    expires_on = expires_on or one_year_after(issued_on)
    if expires_on <= issued_on:
        raise IssueError(f"the expiry date {expires_on.isoformat()} is not after the issue date "
                         f"{issued_on.isoformat()}")
    report, report_sha256 = _read(report_path)
    certified = _check_report(report, report_path, None if profiles is None else list(profiles))
    certificate = {
        "number": f"PSC-{issued_on.year:04d}-{secrets.token_hex(4).upper()}",
        "supplier": supplier,
        "product": {"name": product, "version": version},
        "profiles": certified,
        "target_kind": report["target"]["kind"],
        "standard_version": report["standard_version"],
        "suite_version": report["suite_version"],
        "report_sha256": report_sha256,
        "declaration_sha256": report["declaration_sha256"],
        "issued_on": issued_on.isoformat(),
        "expires_on": expires_on.isoformat(),
        "issuer": {"name": issuer_name, "key_id": key_id(private_key.public_key())},
    }
    problem = _certificate_problem(certificate)
    if problem:  # the report held something no certificate can carry (a profile id with a line break, say)
        raise _refuse(report_path, problem)
    return {"plugshare_certificate": FORMAT, "certificate": certificate, "signature": sign(private_key, certificate)}


def write(document: Mapping[str, Any], path: Path | str) -> Path:
    """Write an issued certificate to a new file (an existing one is never replaced: FileExistsError)."""
    return write_document(document, path)


# --- verifying ------------------------------------------------------------------------------------------


def _certificate_problem(certificate: Any) -> str | None:
    """Why ``certificate`` (the signed content) is not of the form ``issue`` makes, or None."""
    if not isinstance(certificate, dict) or set(certificate) != _CERTIFICATE_FIELDS:
        return "its content is not of the expected form"
    if not isinstance(certificate["number"], str) or not NUMBER.fullmatch(certificate["number"]):
        return "its number is not of the form PSC-YYYY-XXXXXXXX"
    product, issuer = certificate["product"], certificate["issuer"]
    if not isinstance(product, dict) or set(product) != {"name", "version"}:
        return "its product is not of the form {name, version}"
    if not isinstance(issuer, dict) or set(issuer) != {"name", "key_id"}:
        return "its issuer is not of the form {name, key_id}"
    for value, what in ((certificate["supplier"], "its supplier"), (product["name"], "its product name"),
                        (product["version"], "its product version"), (issuer["name"], "its issuer's name"),
                        (certificate["standard_version"], "its standard version"),
                        (certificate["suite_version"], "its suite version")):
        problem = text_problem(value, what)
        if problem:
            return problem
    profiles = certificate["profiles"]
    if not isinstance(profiles, list) or not profiles:
        return "it names no profile"
    for profile in profiles:
        problem = text_problem(profile, "a profile id")
        if problem:
            return problem
    if profiles != sorted(set(profiles)):
        return "its profiles are not a sorted list of distinct profile ids"
    if certificate["target_kind"] not in TARGET_KINDS:
        return "its target kind is neither api nor adapter"
    for name in ("report_sha256", "declaration_sha256"):
        value = certificate[name]
        if name == "declaration_sha256" and value is None:
            continue
        if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX64:
            return f"its {name} is not a SHA-256 digest in hex"
    issued, expires = iso_date(certificate["issued_on"]), iso_date(certificate["expires_on"])
    if issued is None or expires is None:
        return "its dates are not of the form YYYY-MM-DD"
    if expires <= issued:
        return "it expires before it is issued"
    if not isinstance(issuer["key_id"], str) or not KEY_ID.fullmatch(issuer["key_id"]):
        return "its issuer's key id is not of the form ed25519:<16 hex digits>"
    return None


def _document_problem(document: dict[str, Any]) -> str | None:
    if set(document) != _DOCUMENT_FIELDS:
        return "it is not a plugshare certificate (expected plugshare_certificate, certificate and signature)"
    version = document["plugshare_certificate"]
    if type(version) is not int or version != FORMAT:
        shown = version if type(version) is int else "unknown"
        return f"it is of format {shown}, and this version of plugshare reads format {FORMAT}"
    problem = _certificate_problem(document["certificate"]) or signature_problem(document["signature"])
    if problem:
        return problem
    if document["signature"]["key_id"] != document["certificate"]["issuer"]["key_id"]:
        return "it is signed by another key than the issuer key it names"
    return None


def _not_authentic(reason: str) -> Problem:
    return Problem(NOT_AUTHENTIC, f"not authentic: {reason}. Do not rely on it: ask the supplier for the "
                                  "certificate exactly as the issuer sent it, and check you have the issuer's "
                                  "public key")


def read_certificate(source: bytes | str | Path) -> tuple[dict[str, Any] | None, Problem | None]:
    """The certificate document in ``source`` (bytes or a path) when it is exactly of the form ``issue`` writes,
    else the not_authentic problem saying why. Its signature is not checked: ``verify`` does that."""
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None, _not_authentic(f"{path} does not exist (unreadable)")
        except OSError as error:
            return None, _not_authentic(f"{path} cannot be read ({error.strerror}) (unreadable)")
    try:
        document = parse_document(data)
    except DocumentError as error:
        return None, _not_authentic(f"the file is unreadable as a certificate: {error}")
    problem = _document_problem(document)
    if problem:
        return None, _not_authentic(problem)
    return document, None


def verify(certificate: bytes | str | Path, *, public_key: Ed25519PublicKey | None = None,
           keyring: Mapping[str, Ed25519PublicKey] | None = None, profiles: Iterable[str] = (),
           at: dt.date | None = None, revocations: RevocationList | str | Path | None = None) -> Verdict:
    """Whether the certificate (its file's bytes, or its path) is authentic (signed by ``public_key``, or by a
    key in ``keyring``, and unchanged), current at ``at`` (today), not revoked by then (when a revocation list
    is given) and covers every one of ``profiles``; each problem is reported with its kind.

    A revocation list given as a path is loaded with the same key(s); RevocationError if it is not authentic
    or is another issuer's list (then revocation cannot be checked, which is no answer at all)."""
    if (public_key is None) == (keyring is None):
        raise ValueError("give exactly one of public_key or keyring")
    at = as_day(at) or today()
    asked = tuple(dict.fromkeys(profiles))
    document, problem = read_certificate(certificate)
    if document is None:
        return Verdict(False, [problem], None, at, asked)
    content, signature = document["certificate"], document["signature"]
    key, why = find_key(signature["key_id"], public_key, keyring)
    if key is None:
        return Verdict(False, [_not_authentic(why)], content, at, asked)
    if not signature_valid(key, content, signature):
        return Verdict(False, [_not_authentic("its signature does not match its content (it was changed after it "
                                              "was signed, or signed by someone else)")], content, at, asked)
    if revocations is not None and not isinstance(revocations, RevocationList):
        revocations = revocation_lists.load(revocations, public_key if public_key is not None else keyring)
    if revocations is not None and revocations.issuer_key_id != signature["key_id"]:
        raise RevocationError(f"the revocation list is the one of issuer key {revocations.issuer_key_id}, and the "
                              f"certificate was issued with key {signature['key_id']}: give that issuer's list")
    problems = []
    issued, expires = iso_date(content["issued_on"]), iso_date(content["expires_on"])
    if at < issued:
        problems.append(Problem(NOT_YET_VALID, f"not yet valid: it is valid from {issued.isoformat()}, and the date "
                                               f"checked is {at.isoformat()}; check the date asked for (--at)"))
    elif at >= expires:
        problems.append(Problem(EXPIRED, f"expired: it expired on {expires.isoformat()} (the date checked is "
                                         f"{at.isoformat()}); ask the supplier for a current certificate"))
    entry = revocations.revoked_by(content["number"], at) if revocations is not None else None
    if entry is not None:
        problems.append(Problem(REVOKED, f"revoked: the issuer revoked it on {entry.revoked_on.isoformat()} "
                                         f"(reason: {entry.reason}); do not rely on it, ask the supplier why"))
    covered = content["profiles"]
    for profile in asked:
        if profile not in covered:
            problems.append(Problem(MISSING_PROFILE, f"missing profile: it does not cover profile {profile!r} "
                                                     f"(it covers {', '.join(covered)}); ask for a certificate "
                                                     "for that profile"))
    return Verdict(not problems, problems, content, at, asked, revocations)


def _what(certificate: Mapping[str, Any]) -> str:
    product = certificate["product"]
    return (f"certificate {certificate['number']} for {certificate['supplier']}'s {product['name']} "
            f"{product['version']}")


def describe(verdict: Verdict) -> list[str]:
    """The verdict in plain words: "VALID: ..." or "NOT VALID: ...", then a line per problem."""
    at = verdict.at.isoformat()
    if not verdict.authentic:
        return ["NOT VALID: this is not an authentic plugshare certificate.",
                *(f"- {problem.text}" for problem in verdict.problems)]
    certificate = verdict.certificate
    assert certificate is not None
    if not verdict.ok:
        return [f"NOT VALID: {_what(certificate)} is not valid on {at}.",
                *(f"- {problem.text}" for problem in verdict.problems)]
    issuer = certificate["issuer"]
    by = f"key {issuer['key_id']}"
    if issuer["name"] != issuer["key_id"]:
        by = f"{issuer['name']} ({by})"
    lines = [f"VALID: {_what(certificate)} is authentic and current on {at}.",
             f"- profiles: {', '.join(certificate['profiles'])} (an {certificate['target_kind']} target), "
             f"standard {certificate['standard_version']}, conformance suite {certificate['suite_version']}",
             f"- issued on {certificate['issued_on']} by {by}; expires on "
             f"{certificate['expires_on']}"]
    if verdict.profiles:
        lines.append(f"- covers the profiles asked for: {', '.join(verdict.profiles)}")
    if verdict.revocations is not None:
        lines.append(f"- not revoked, by the issuer's revocation list of {verdict.revocations.updated_on.isoformat()}")
    else:
        lines.append("- revocation was not checked: give the issuer's revocation list (--revocations) to check it")
    return lines
