"""The signed list of certificates an issuer has revoked.

A certificate stays signed after it is revoked (a supplier keeps the file), so a buyer also checks the
issuer's revocation list. The list is signed by the same issuer key as the certificates it covers and is
refused unless that signature verifies: a forged or edited list can neither revoke a good certificate nor
un-revoke a bad one. Revoking re-signs the whole list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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

FORMAT = 1
#: a certificate number: PSC-<year of issue>-<8 upper-case hex digits>
NUMBER = re.compile(r"PSC-[0-9]{4}-[0-9A-F]{8}")
_DOCUMENT_FIELDS = frozenset({"plugshare_revocations", "revocations", "signature"})
_LIST_FIELDS = frozenset({"issuer_key_id", "updated_on", "revoked"})
_ENTRY_FIELDS = frozenset({"number", "revoked_on", "reason"})


class RevocationError(ValueError):
    """A revocation list that cannot be used (missing, unreadable, not authentic), or a revocation refused."""


class AlreadyRevoked(RevocationError):
    """The certificate is on the list already; the list is left as it was."""

    def __init__(self, entry: Revocation):
        self.entry = entry
        super().__init__(f"certificate {entry.number} was already revoked on {entry.revoked_on.isoformat()} "
                         f"({entry.reason})")


@dataclass(frozen=True)
class Revocation:
    number: str
    revoked_on: dt.date
    reason: str


@dataclass(frozen=True)
class RevocationList:
    """A verified list: only ``load`` and ``revoke`` make one from a file, after checking its signature."""

    issuer_key_id: str
    updated_on: dt.date
    revoked: tuple[Revocation, ...]

    def find(self, number: str) -> Revocation | None:
        """The revocation of certificate ``number``, whenever it took effect."""
        return next((entry for entry in self.revoked if entry.number == number), None)

    def revoked_by(self, number: str, at: dt.date) -> Revocation | None:
        """The revocation of certificate ``number`` if it had taken effect by ``at``: asked about an earlier
        date, a certificate revoked later was not revoked then."""
        entry = self.find(number)
        return entry if entry is not None and entry.revoked_on <= at else None

    def body(self) -> dict[str, Any]:
        return {"issuer_key_id": self.issuer_key_id, "updated_on": self.updated_on.isoformat(),
                "revoked": [{"number": e.number, "revoked_on": e.revoked_on.isoformat(), "reason": e.reason}
                            for e in self.revoked]}


def number_problem(number: Any) -> str | None:
    if not isinstance(number, str) or not NUMBER.fullmatch(number):
        return "a certificate number has the form PSC-YYYY-XXXXXXXX (8 upper-case hex digits)"
    return None


def _list_problem(document: dict[str, Any]) -> str | None:
    """Why ``document`` is not a revocation list of the form ``revoke`` writes, or None."""
    if set(document) != _DOCUMENT_FIELDS:
        return "it is not a plugshare revocation list (expected plugshare_revocations, revocations and signature)"
    version = document["plugshare_revocations"]
    if type(version) is not int or version != FORMAT:
        shown = version if type(version) is int else "unknown"
        return f"it is of format {shown}, and this version of plugshare reads format {FORMAT}"
    body = document["revocations"]
    if not isinstance(body, dict) or set(body) != _LIST_FIELDS:
        return "its revocations are not of the expected form"
    if not isinstance(body["issuer_key_id"], str) or not KEY_ID.fullmatch(body["issuer_key_id"]):
        return "it does not name its issuer's key id"
    if iso_date(body["updated_on"]) is None:
        return "its updated_on is not a date (YYYY-MM-DD)"
    if not isinstance(body["revoked"], list):
        return "its revoked entries are not a list"
    seen = set()
    for entry in body["revoked"]:
        if not isinstance(entry, dict) or set(entry) != _ENTRY_FIELDS:
            return "a revoked entry is not of the form {number, revoked_on, reason}"
        problem = (number_problem(entry["number"])
                   or (None if iso_date(entry["revoked_on"]) else "a revoked_on is not a date (YYYY-MM-DD)")
                   or text_problem(entry["reason"], "a reason"))
        if problem:
            return problem
        if entry["number"] in seen:
            return f"certificate {entry['number']} is listed twice"
        seen.add(entry["number"])
    problem = signature_problem(document["signature"])
    if problem:
        return problem
    if document["signature"]["key_id"] != body["issuer_key_id"]:
        return "it is signed by another key than the issuer key it names"
    return None


def parse(data: bytes | str, keys: Ed25519PublicKey | Mapping[str, Ed25519PublicKey],
          where: str = "the revocation list") -> RevocationList:
    """A revocation list from a file's bytes, checked against the issuer's key (or a keyring)."""
    try:
        document = parse_document(data)
    except DocumentError as error:
        raise RevocationError(f"{where} is not authentic: {error}; get it again from the issuer") from None
    problem = _list_problem(document)
    if problem is None:
        body = document["revocations"]
        single = keys if isinstance(keys, Ed25519PublicKey) else None
        ring = None if single is not None else keys
        key, problem = find_key(body["issuer_key_id"], single, ring)
        if key is not None and not signature_valid(key, body, document["signature"]):
            problem = "its signature does not match its content (it was changed after it was signed, or forged)"
    if problem:
        raise RevocationError(f"{where} is not authentic: {problem}; get it again from the issuer")
    return RevocationList(
        issuer_key_id=body["issuer_key_id"], updated_on=iso_date(body["updated_on"]),
        revoked=tuple(Revocation(e["number"], iso_date(e["revoked_on"]), e["reason"]) for e in body["revoked"]))


def load(list_path: Path | str, keys: Ed25519PublicKey | Mapping[str, Ed25519PublicKey]) -> RevocationList:
    """The revocation list in ``list_path``; RevocationError unless it is signed by the issuer's key."""
    path = Path(list_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RevocationError(f"{path}: no such revocation list") from None
    except OSError as error:
        raise RevocationError(f"{path} cannot be read ({error.strerror})") from None
    return parse(data, keys, where=str(path))


def revoke(list_path: Path | str, private_key: Ed25519PrivateKey, number: str, reason: str,
           on: dt.date | None = None) -> RevocationList:
    """Add certificate ``number`` to the issuer's list in ``list_path`` (created if absent) and re-sign it.

    An existing list is extended only if it verifies with this key: an issuer never signs a list it did not
    write. AlreadyRevoked if the number is on it already (the list is unchanged)."""
    problem = number_problem(number) or text_problem(reason, "the reason")
    if problem:
        raise RevocationError(problem)
    on = as_day(on) or today()
    path = Path(list_path)
    issuer = key_id(private_key.public_key())
    if path.exists():
        current = load(path, private_key.public_key())
    else:
        current = RevocationList(issuer_key_id=issuer, updated_on=on, revoked=())
    entry = current.find(number)
    if entry is not None:
        raise AlreadyRevoked(entry)
    revoked = tuple(sorted((*current.revoked, Revocation(number, on, reason)), key=lambda e: e.number))
    updated = RevocationList(issuer_key_id=issuer, updated_on=max(current.updated_on, on), revoked=revoked)
    body = updated.body()
    document = {"plugshare_revocations": FORMAT, "revocations": body, "signature": sign(private_key, body)}
    try:
        write_document(document, path, replace=True)
    except OSError as error:
        raise RevocationError(f"{path} cannot be written ({error.strerror or error})") from None
    return updated
