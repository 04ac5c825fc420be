"""The public register of certified products: a static site anyone can open offline and search.

``build`` reads every ``*.json`` file of a certificates directory, checks each one exactly as ``plugshare
certify verify`` would (signature with the issuer's keys, dates, the signed revocation list) and writes:

- ``register.json``: the machine-readable register, one entry per file with its status;
- ``index.html``: the same as a table with a search box, self-contained so it works from ``file://``;
- ``certificates/<number>.html`` and ``certificates/<number>.json``: the printable page and a copy of the
  certificate file, so a buyer can verify what they print.

A file that is not a certificate, or whose signature does not verify, is listed as "not authentic" with
the reason and never gets a certificate page: the register must not lend a forgery its look. Nothing in
the directory can make the build crash; a revocation list that does not verify does stop it, because
publishing without it would show revoked certificates as valid.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from plugshare.atomic import write_atomic
from plugshare.certification import certificates
from plugshare.certification import keys as keyfiles
from plugshare.certification import revocations as revocation_lists
from plugshare.certification.pages import (
    BASE_CSS,
    NOT_AUTHENTIC,
    STATUS_TEXT,
    STATUSES,
    VALID,
    badge,
    certificate_page,
    document,
    e,
    inner,
    status_words,
)
from plugshare.models.version import STANDARD_VERSION

REGISTER_JSON = "register.json"
INDEX_HTML = "index.html"
PAGES_DIR = "certificates"
#: a certificate is about a kilobyte; a file far larger is not read whole
MAX_CERTIFICATE_BYTES = 1_000_000

#: verify's problem kinds, worst first: a certificate takes the status of its worst problem
_STATUS_OF_PROBLEM = (("not_authentic", NOT_AUTHENTIC), ("revoked", "revoked"), ("expired", "expired"),
                      ("not_yet_valid", "not_yet_valid"))
#: what build names its own files in ``certificates/``: only these are replaced or removed there
_OWN_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.(?:html|json)$")


class RegisterError(ValueError):
    """The register cannot be built: no certificates directory, an unusable output, or a bad revocation list."""


@dataclass
class RegisterSummary:
    """What a build wrote and found: counts by status, the files written, and the files it could not list."""

    generated_on: str
    counts: dict[str, int]
    index: Path
    register_json: Path
    pages: list[Path] = field(default_factory=list)
    #: (file name, reason) of each file listed as not authentic
    not_authentic: list[tuple[str, str]] = field(default_factory=list)
    #: (file name, reason) of each file in the directory that is not listed at all
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def paths(self) -> list[Path]:
        """Every file written: index.html, register.json, then the certificate pages and copies."""
        return [self.index, self.register_json, *self.pages]

    def lines(self) -> list[str]:
        """The summary in plain language, one line each, for a terminal."""
        counts = ", ".join(f"{self.counts[s]} {status_words(s).lower()}" for s in STATUSES if self.counts.get(s))
        out = [f"register of {self.total} certificate{'s' if self.total != 1 else ''} on {self.generated_on}"
               + (f": {counts}" if counts else ""), f"written {self.index}", f"written {self.register_json}"]
        out += [f"NOT AUTHENTIC: {name}: {reason}" for name, reason in self.not_authentic]
        out += [f"not listed: {name}: {reason}" for name, reason in self.skipped]
        return out


# --- reading and checking ---------------------------------------------------------------------------------

def _keyring(keys: Any) -> Mapping[str, Any]:
    """The issuer keys as {key id: public key}, from a keyring, one public key, a key file or a key directory."""
    if isinstance(keys, (str, os.PathLike)):
        path = Path(keys)
        return keyfiles.keyring(path) if path.is_dir() else _keyring(keyfiles.load_public(path))
    if isinstance(keys, Mapping):
        return keys
    return {keyfiles.key_id(keys): keys}


def _revocations(revocations: Any, keyring: Mapping[str, Any]) -> Any:
    if revocations is None or not isinstance(revocations, (str, os.PathLike)):
        return revocations
    try:
        return revocation_lists.load(Path(revocations), keyring)
    except revocation_lists.RevocationError as error:
        raise RegisterError(f"the revocation list {revocations} cannot be used: {error}; the register was not "
                            "built, because without it revoked certificates would be shown as valid") from error


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: the most of an unverified claim shown: a forgery must not be able to fill the register
_CLAIM_CHARS = 120


def _claim(value: Any) -> str | None:
    """An unverified value as a short one-line label, or None."""
    if value is None or isinstance(value, (Mapping, list, bool)):
        return None
    text = _CONTROL.sub(" ", str(value)).strip()
    return (text[:_CLAIM_CHARS - 3] + "...") if len(text) > _CLAIM_CHARS else text or None


def _claimed(raw: bytes) -> dict[str, Any]:
    """What an unverified file claims (each value a short label), for listing it as not authentic."""
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    if not isinstance(parsed, Mapping):
        return {}
    body = inner(parsed)[0]
    product = body.get("product") if isinstance(body.get("product"), Mapping) else {}
    profiles = body.get("profiles") if isinstance(body.get("profiles"), list) else []
    claimed = {name: _claim(body.get(name)) for name in ("number", "supplier", "standard_version", "issued_on",
                                                          "expires_on")}
    claimed["product"] = {"name": _claim(product.get("name")), "version": _claim(product.get("version"))}
    claimed["profiles"] = [p for p in (_claim(p) for p in profiles[:20]) if p]
    return claimed


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, (Mapping, list)) else str(value)


def _entry(body: Mapping[str, Any], status: str, file_name: str, problems: list[str],
           revocation_checked: bool = False) -> dict[str, Any]:
    product = body.get("product") if isinstance(body.get("product"), Mapping) else {}
    profiles = body.get("profiles")
    return {"number": _text(body.get("number")), "supplier": _text(body.get("supplier")),
            "product": _text(product.get("name")), "version": _text(product.get("version")),
            "profiles": [str(p) for p in profiles if not isinstance(p, (Mapping, list))]
            if isinstance(profiles, list) else [],
            "standard_version": _text(body.get("standard_version")), "issued_on": _text(body.get("issued_on")),
            "expires_on": _text(body.get("expires_on")), "status": status, "page": None, "file": file_name,
            "revocation_checked": revocation_checked, "problems": problems}


def _status(problems: list[tuple[str, str]]) -> str:
    kinds = {kind for kind, _ in problems}
    for kind, status in _STATUS_OF_PROBLEM:
        if kind in kinds:
            return status
    # a problem of a kind the register does not know (a missing profile, which build never asks for) must
    # not pass as valid
    return NOT_AUTHENTIC if problems else VALID


def _verify(raw: bytes, keyring: Mapping[str, Any], revocations: Any, at: date) -> tuple[Any, bool]:
    """verify's verdict, and whether revocation was checked: a list covers only its own issuer's
    certificates, so another issuer's certificate is checked without it (and says so)."""
    if revocations is not None:
        try:
            return certificates.verify(raw, keyring=keyring, at=at, revocations=revocations), True
        except revocation_lists.RevocationError:
            pass
    return certificates.verify(raw, keyring=keyring, at=at), False


def _is_revocation_list(raw: bytes) -> bool:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and "plugshare_revocations" in parsed


def _check(path: Path, raw: bytes, keyring: Mapping[str, Any], revocations: Any,
           at: date) -> tuple[dict[str, Any], bytes]:
    """One file's register entry and its bytes; any failure to check it makes it not authentic."""
    try:
        verdict, revocation_checked = _verify(raw, keyring, revocations, at)
    except Exception as error:  # noqa: BLE001 - a file that breaks the check is listed, never fatal
        return _entry(_claimed(raw), NOT_AUTHENTIC, path.name, [f"not authentic: cannot be checked ({error})"]), raw
    problems = [(str(kind), str(text)) for kind, text in verdict.problems]
    status = _status(problems)
    if verdict.ok != (status == VALID):  # never trust an answer that contradicts itself
        status = NOT_AUTHENTIC
        problems = problems or [("not_authentic", "not authentic: the certificate did not verify")]
    if status == NOT_AUTHENTIC:
        return _entry(_claimed(raw), status, path.name, [text for _, text in problems]), raw
    return _entry(verdict.certificate, status, path.name, [text for _, text in problems], revocation_checked), raw


# --- writing ----------------------------------------------------------------------------------------------

def _page_name(number: str | None, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", number or "") or "certificate"
    stem = stem.lstrip("_-") or "certificate"
    name, n = stem, 1
    while name in used:
        n += 1
        name = f"{stem}-{n}"
    used.add(name)
    return name


def _sort_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["status"] == NOT_AUTHENTIC, (entry["supplier"] or "").casefold(),
            (entry["product"] or "").casefold(), entry["version"] or "", entry["number"] or "", entry["file"])


def build(certs_dir: Path | str, out: Path | str, keys: Any, revocations: Any = None,
          at: date | None = None) -> RegisterSummary:
    """Build the register site in ``out`` from every ``*.json`` certificate file in ``certs_dir``.

    ``keys`` are the issuer's public keys: a keyring ({key id: key}, as ``keys.keyring`` makes), one public
    key, or the path of a key file or key directory. ``revocations`` is the issuer's signed revocation list
    (a path, or a list already loaded); ``at`` is the date the statuses hold for (today by default). Files
    in ``out/certificates/`` from an earlier build that this build did not write are removed, so a
    certificate taken out of the directory does not linger in the register."""
    at = keyfiles.as_day(at) or keyfiles.today()
    certs_dir, out = Path(certs_dir), Path(out)
    if not certs_dir.is_dir():
        raise RegisterError(f"{certs_dir} is not a directory of certificates")
    if out.resolve() == certs_dir.resolve():
        raise RegisterError(f"write the register somewhere other than the certificates directory {certs_dir}")
    try:
        keyring = _keyring(keys)
    except Exception as error:  # noqa: BLE001 - the key loader's own message says which file and what to do
        raise RegisterError(f"the issuer's public keys cannot be used: {error}") from error
    if not keyring:
        raise RegisterError("no issuer public key was given, so no certificate could be shown as authentic")
    revocation_list = _revocations(revocations, keyring)
    revocation_path = Path(revocations).resolve() if isinstance(revocations, (str, os.PathLike)) else None

    entries: list[tuple[dict[str, Any], bytes]] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(certs_dir.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() != ".json":
            skipped.append((path.name, "not a .json file"))
            continue
        if revocation_path is not None and path.resolve() == revocation_path:
            skipped.append((path.name, "the revocation list given"))
            continue
        try:
            if path.stat().st_size > MAX_CERTIFICATE_BYTES:
                raise ValueError(f"it is larger than {MAX_CERTIFICATE_BYTES:,} bytes, far more than a certificate")
            raw = path.read_bytes()
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            entries.append((_entry({}, NOT_AUTHENTIC, path.name, [f"not authentic: cannot be read ({reason})"]), b""))
            continue
        if _is_revocation_list(raw):
            skipped.append((path.name, "a revocation list, not a certificate (give it as the revocation list)"))
            continue
        entries.append(_check(path, raw, keyring, revocation_list, at))

    pages_dir = out / PAGES_DIR
    try:
        pages_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RegisterError(f"the register cannot be written in {out}: {error.strerror or error}") from error
    used: set[str] = set()
    written: list[Path] = []
    for entry, raw in sorted(entries, key=lambda item: _sort_key(item[0])):
        if entry["status"] == NOT_AUTHENTIC:
            continue
        name = _page_name(entry["number"], used)
        page, copy = pages_dir / f"{name}.html", pages_dir / f"{name}.json"
        write_atomic(copy, raw)
        write_atomic(page, certificate_page(json.loads(raw.decode("utf-8")), entry["status"], checked_on=at,
                                                  revocation_checked=entry["revocation_checked"]))
        entry["page"] = f"{PAGES_DIR}/{name}.html"
        written += [page, copy]
    keep = {p.name for p in written}
    for stale in pages_dir.iterdir():
        if stale.is_file() and _OWN_FILE.match(stale.name) and stale.name not in keep:
            stale.unlink()

    listed = sorted((entry for entry, _ in entries), key=_sort_key)
    generated_on = at.isoformat()
    register = {"generated_on": generated_on, "standard_version": STANDARD_VERSION, "certificates": listed}
    register_json, index = out / REGISTER_JSON, out / INDEX_HTML
    write_atomic(register_json, json.dumps(register, indent=2, ensure_ascii=False) + "\n")
    write_atomic(index, register_page(register))

    counts = dict.fromkeys(STATUSES, 0)
    for entry in listed:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    return RegisterSummary(
        generated_on=generated_on, counts=counts, index=index, register_json=register_json, pages=written,
        not_authentic=[(entry["file"], "; ".join(entry["problems"]) or "not authentic")
                       for entry in listed if entry["status"] == NOT_AUTHENTIC],
        skipped=skipped)


# --- index.html -------------------------------------------------------------------------------------------

_INDEX_CSS = BASE_CSS + """
.search{margin:1rem 0;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
.search input{font-size:1.1rem;padding:.35rem .5rem;min-width:20rem;border:2px solid #505a5f;border-radius:4px}
.search input:focus{outline:3px solid #fd0;outline-offset:0}
#shown{font-weight:bold}tr.not_authentic td{background:#fbeae7}td.status{min-width:14rem}
.note{font-size:.9rem}td.date{white-space:nowrap}
@media print{body{margin:0;max-width:none;font-size:9.5pt}.search{display:none}tr{break-inside:avoid}}
"""

#: narrows the rows to those holding every word typed (in any column), and says how many are shown
_SEARCH_SCRIPT = """
(function () {
  var box = document.getElementById("search");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#register tbody tr"));
  var none = document.getElementById("none");
  function narrow() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var text = row.getAttribute("data-search");
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length;
    if (rows.length > 0) { none.hidden = count !== 0; }
  }
  box.addEventListener("input", narrow);
  narrow();
})();
"""


def _search_text(entry: Mapping[str, Any]) -> str:
    values = [entry["supplier"], entry["product"], entry["version"], entry["number"], entry["status"],
              status_words(entry["status"]), entry["file"], *entry["profiles"]]
    return " ".join(str(v) for v in values if v).lower()


def _short(problem: str, status: str) -> str:
    """A problem's first clause (what is wrong, without the advice or the status the badge already says)."""
    text = problem.split("; ")[0].split(". ")[0]
    lead = status_words(status).lower() + ": "
    return text[len(lead):] if text.lower().startswith(lead) and len(text) > len(lead) else text


def _row(entry: Mapping[str, Any]) -> str:
    number = e(entry["number"] or "")
    if entry["page"]:
        certificate = f'<a href="{e(entry["page"])}">{number}</a>'
    else:
        certificate = f"{number}{'<br>' if number else ''}no certificate page"
    notes = [_short(p, entry["status"]) for p in entry["problems"]]
    if entry["status"] != NOT_AUTHENTIC and not entry["revocation_checked"]:
        notes.append("revocation not checked")
    note = "".join(f'<br><span class="note">{e(n)}</span>' for n in notes)
    return (f'<tr class="{e(entry["status"])}" data-search="{e(_search_text(entry))}">'
            f"<td>{e(entry['supplier'] or '')}</td><td>{e(entry['product'] or '')}</td>"
            f"<td>{e(entry['version'] or '')}</td><td>{e(', '.join(entry['profiles']))}</td>"
            f'<td class="status">{badge(entry["status"])}{note}</td>'
            f'<td class="date">{e(entry["issued_on"] or "")}</td><td class="date">{e(entry["expires_on"] or "")}</td>'
            f'<td>{certificate}<br><span class="muted">file {e(entry["file"])}</span></td></tr>')


def register_page(register: Mapping[str, Any]) -> str:
    """index.html: every certificate in a table, narrowed by the search box as you type."""
    listed = register["certificates"]
    body = ["<main>", "<h1>Register of plugshare certified products</h1>",
            f"<p>Every certificate issued, and whether it can be relied on, as of {e(register['generated_on'])} "
            f"(plugshare standard {e(register['standard_version'])}). The same register is in "
            f'<a href="{REGISTER_JSON}">{REGISTER_JSON}</a> for tools.</p>',
            '<div class="search" role="search">',
            '<label for="search">Search by supplier, product, version, profile, number or status</label>',
            '<input type="search" id="search" autocomplete="off" spellcheck="false">',
            f'<p>Showing <span id="shown" aria-live="polite">{len(listed)} of {len(listed)}</span> '
            "certificates</p>", "</div>",
            '<table id="register">', "<thead><tr><th>Supplier</th><th>Product</th><th>Version</th>"
            "<th>Profiles</th><th>Status</th><th>Issued</th><th>Expires</th>"
            "<th>Certificate (printable page)</th></tr></thead>", "<tbody>"]
    body += [_row(entry) for entry in listed]
    body += ["</tbody>", "</table>",
             '<p id="none" hidden>No certificate matches the search.</p>' if listed
             else '<p id="none">No certificates have been issued yet.</p>',
             "<h2>What the statuses mean</h2>", "<dl>"]
    body += [f"<dt>{badge(status)}</dt><dd>{e(STATUS_TEXT[status][1])}</dd>" for status in STATUSES]
    body += ["</dl>",
             "<p>A register is a convenience: to rely on a certificate, check its file yourself with "
             "<code>plugshare certify verify</code> and the issuer's public key, as each certificate page "
             "explains.</p>", "</main>"]
    return document("Register of plugshare certified products", _INDEX_CSS, body, _SEARCH_SCRIPT)
