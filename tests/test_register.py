"""The register of certified products: register.json, statuses, escaping, offline pages, printable certificates."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from plugshare.certification import certificates, keys, register, revocations
from plugshare.certification.pages import NOT_AUTHENTIC, STATUSES, UNCHECKED, certificate_page, verify_command
from plugshare.certification.register import RegisterError, build

AT = dt.date(2026, 3, 2)
HOSTILE_SUPPLIER = 'Evil & "Sons" <script>alert(1)</script><img src=x onerror=alert(2)>'


# --- a register to look at --------------------------------------------------------------------------------


@dataclass
class Sample:
    """A certificates directory holding one certificate of each status and several files that are not."""

    certs: Path
    keys_dir: Path
    revocations: Path
    #: file name -> the certificate document issued (authentic files only)
    issued: dict[str, dict] = field(default_factory=dict)
    #: file name -> the status the register must give it
    expected: dict[str, str] = field(default_factory=dict)


def passing_report(directory: Path) -> Path:
    """The report.json of a real, complete and conforming run of the suite over the hr-csv adapter."""
    from plugshare.conformance import suite
    from plugshare.conformance.report import write_reports

    report, _ = suite.run_adapter("hr-csv")
    return write_reports(report, directory)["json"]


def make_sample(root: Path, report_path: Path) -> Sample:
    issuer = keys.generate(root / "keys")
    private_key = keys.load_private(issuer.private_key)
    certs = root / "certs"
    certs.mkdir()
    sample = Sample(certs=certs, keys_dir=root / "keys", revocations=root / "revocations.json")

    def add(name: str, status: str, key=private_key, **details) -> dict:
        details.setdefault("issuer_name", "Example Certification Ltd")
        details.setdefault("issued_on", AT - dt.timedelta(days=30))
        document = certificates.issue(report_path, key, **details)
        certificates.write(document, certs / name)
        sample.expected[name] = status
        if status != NOT_AUTHENTIC:
            sample.issued[name] = document
        return document

    add("acme.json", "valid", supplier="Acme Payroll Ltd", product="Acme HR", version="4.2.0")
    add("borough.json", "expired", supplier="Borough Systems", product="PayFlow", version="1.0",
        issued_on=dt.date(2024, 1, 5))
    revoked = add("civic.json", "revoked", supplier="Civic Soft", product="PeopleDesk", version="2.1")
    add("dales.json", "not_yet_valid", supplier="Dales Data", product="Ledger", version="7",
        issued_on=AT + dt.timedelta(days=10))
    add("evil.json", "valid", supplier=HOSTILE_SUPPLIER, product="<b>Bold</b> HR", version="1'2\"3")
    revocations.revoke(sample.revocations, private_key, revoked["certificate"]["number"], "a test failure was found",
                       on=AT - dt.timedelta(days=1))

    # files that are not authentic certificates
    stranger = Ed25519Stranger(root)
    add("stranger.json", NOT_AUTHENTIC, key=stranger.key, supplier="Stranger Ltd", product="Unknown", version="1")
    forged = json.loads((certs / "acme.json").read_text(encoding="utf-8"))
    forged["certificate"]["supplier"] = "Forged Ltd"
    (certs / "forged.json").write_text(keys.document_text(forged), encoding="utf-8")
    (certs / "garbage.json").write_text("this is not a certificate", encoding="utf-8")
    (certs / "binary.json").write_bytes(bytes(range(256)))
    (certs / "empty.json").write_bytes(b"")
    (certs / "array.json").write_text("[1, 2, 3]\n", encoding="utf-8")
    (certs / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (certs / "shape.json").write_text(json.dumps({"plugshare_certificate": 1, "certificate": {"supplier": 7,
                                                  "product": ["x"], "profiles": "hr-core"}}), encoding="utf-8")
    for name in ("forged.json", "garbage.json", "binary.json", "empty.json", "array.json", "deep.json",
                 "shape.json"):
        sample.expected[name] = NOT_AUTHENTIC
    (certs / "README.txt").write_text("certificates go here\n", encoding="utf-8")
    return sample


class Ed25519Stranger:
    """A key pair the register's keyring does not hold."""

    def __init__(self, root: Path):
        self.pair = keys.generate(root / "stranger-keys")
        self.key = keys.load_private(self.pair.private_key)


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> Path:
    return passing_report(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory, report_path) -> Sample:
    return make_sample(tmp_path_factory.mktemp("sample"), report_path)


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample) -> tuple[Path, register.RegisterSummary]:
    out = tmp_path_factory.mktemp("site") / "register"
    summary = build(sample.certs, out, keys.keyring(sample.keys_dir), revocations=sample.revocations, at=AT)
    return out, summary


def entries_by_file(out: Path) -> dict[str, dict]:
    document = json.loads((out / "register.json").read_text(encoding="utf-8"))
    return {entry["file"]: entry for entry in document["certificates"]}


# --- register.json ----------------------------------------------------------------------------------------


def test_register_json_lists_every_certificate_with_what_it_certifies(site, sample):
    out, _ = site
    document = json.loads((out / "register.json").read_text(encoding="utf-8"))
    assert document["generated_on"] == AT.isoformat()
    assert document["standard_version"] == next(iter(sample.issued.values()))["certificate"]["standard_version"]
    listed = entries_by_file(out)
    assert set(listed) == set(sample.expected)
    for name, issued in sample.issued.items():
        body, entry = issued["certificate"], listed[name]
        assert entry["number"] == body["number"]
        assert entry["supplier"] == body["supplier"]
        assert entry["product"] == body["product"]["name"]
        assert entry["version"] == body["product"]["version"]
        assert entry["profiles"] == body["profiles"]
        assert entry["standard_version"] == body["standard_version"]
        assert (entry["issued_on"], entry["expires_on"]) == (body["issued_on"], body["expires_on"])
        assert entry["page"] == f"certificates/{body['number']}.html"
        assert (out / entry["page"]).is_file()


def test_each_certificate_has_the_status_its_signature_dates_and_revocation_give(site, sample):
    out, summary = site
    listed = entries_by_file(out)
    assert {name: entry["status"] for name, entry in listed.items()} == sample.expected
    assert listed["acme.json"]["problems"] == []
    assert "expired" in listed["borough.json"]["problems"][0]
    assert "a test failure was found" in listed["civic.json"]["problems"][0]
    assert all(entry["revocation_checked"] for name, entry in listed.items() if name in sample.issued)
    expected_counts = {status: list(sample.expected.values()).count(status) for status in STATUSES}
    assert summary.counts == expected_counts
    assert summary.total == len(sample.expected)


def test_the_date_asked_decides_expired_and_revoked(sample, tmp_path):
    keyring = keys.keyring(sample.keys_dir)
    before = build(sample.certs, tmp_path / "before", keyring, revocations=sample.revocations,
                   at=AT - dt.timedelta(days=2))
    listed = entries_by_file(tmp_path / "before")
    assert listed["civic.json"]["status"] == "valid"  # revoked only from the day of revocation
    later = build(sample.certs, tmp_path / "later", keyring, revocations=sample.revocations,
                  at=dt.date(2027, 2, 15))
    listed = entries_by_file(tmp_path / "later")
    assert listed["acme.json"]["status"] == "expired"
    assert listed["dales.json"]["status"] == "valid"
    assert listed["civic.json"]["status"] == "revoked"  # revoked outranks expired
    assert before.counts != later.counts


def test_without_a_revocation_list_the_register_says_revocation_was_not_checked(sample, tmp_path):
    build(sample.certs, tmp_path / "site", sample.keys_dir / "issuer.pub", at=AT)
    listed = entries_by_file(tmp_path / "site")
    assert listed["civic.json"]["status"] == "valid"
    assert listed["civic.json"]["revocation_checked"] is False
    page = (tmp_path / "site" / listed["civic.json"]["page"]).read_text(encoding="utf-8")
    assert "Revocation was not checked" in page
    assert "revocation not checked" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_files_that_are_not_authentic_certificates_are_listed_as_such_never_as_valid(site, sample):
    out, summary = site
    listed = entries_by_file(out)
    bad = {name for name, status in sample.expected.items() if status == NOT_AUTHENTIC}
    for name in bad:
        entry = listed[name]
        assert entry["status"] == NOT_AUTHENTIC
        assert entry["page"] is None
        assert entry["problems"] and all("not authentic" in p for p in entry["problems"])
    assert {name for name, _ in summary.not_authentic} == bad
    # the forgery claims the valid certificate's number, yet gets no page and does not replace the real one
    assert listed["forged.json"]["supplier"] == "Forged Ltd"
    assert listed["forged.json"]["number"] == listed["acme.json"]["number"]
    real = (out / listed["acme.json"]["page"]).read_text(encoding="utf-8")
    assert "Acme Payroll Ltd" in real and "Forged Ltd" not in real
    assert "signature" in listed["forged.json"]["problems"][0]
    assert "not in the keyring" in listed["stranger.json"]["problems"][0]
    assert ("README.txt", "not a .json file") in summary.skipped
    assert any(line.startswith("NOT AUTHENTIC: garbage.json") for line in summary.lines())


def test_only_authentic_certificates_get_a_page_and_an_exact_copy_of_their_file(site, sample):
    out, summary = site
    pages = sorted(p.name for p in (out / "certificates").iterdir())
    numbers = [d["certificate"]["number"] for d in sample.issued.values()]
    assert pages == sorted([f"{n}.html" for n in numbers] + [f"{n}.json" for n in numbers])
    for name, document in sample.issued.items():
        copy = out / "certificates" / f"{document['certificate']['number']}.json"
        assert copy.read_bytes() == (sample.certs / name).read_bytes()
    assert set(summary.paths) == {out / "index.html", out / "register.json",
                                  *((out / "certificates" / p) for p in pages)}


def test_a_rebuild_drops_a_certificate_taken_out_of_the_directory(sample, tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("acme.json", "borough.json"):
        (certs / name).write_bytes((sample.certs / name).read_bytes())
    out = tmp_path / "site"
    build(certs, out, sample.keys_dir, at=AT)
    gone = sample.issued["borough.json"]["certificate"]["number"]
    assert (out / "certificates" / f"{gone}.html").exists()
    (certs / "borough.json").unlink()
    summary = build(certs, out, sample.keys_dir, at=AT)
    assert not (out / "certificates" / f"{gone}.html").exists()
    assert not (out / "certificates" / f"{gone}.json").exists()
    assert summary.total == 1 and list(entries_by_file(out)) == ["acme.json"]


def test_a_forged_revocation_list_stops_the_build_before_anything_is_written(sample, tmp_path):
    document = json.loads(sample.revocations.read_text(encoding="utf-8"))
    document["revocations"]["revoked"] = []  # un-revoke the revoked certificate
    forged = tmp_path / "revocations.json"
    forged.write_text(keys.document_text(document), encoding="utf-8")
    with pytest.raises(RegisterError, match="revocation list .* cannot be used"):
        build(sample.certs, tmp_path / "site", sample.keys_dir, revocations=forged, at=AT)
    assert not (tmp_path / "site").exists()


def test_another_issuers_certificates_are_checked_without_this_issuers_revocation_list(sample, report_path,
                                                                                      tmp_path):
    other = keys.generate(tmp_path / "other-keys")
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "acme.json").write_bytes((sample.certs / "acme.json").read_bytes())
    certificates.write(certificates.issue(report_path, keys.load_private(other.private_key), supplier="Other Ltd",
                                          product="Other HR", version="1", issued_on=AT), certs / "other.json")
    keyring = {**keys.keyring(sample.keys_dir), **keys.keyring(tmp_path / "other-keys")}
    # the issuer's list lies in the certificates directory: it is not listed as a certificate
    (certs / "revocations.json").write_bytes(sample.revocations.read_bytes())
    summary = build(certs, tmp_path / "site", keyring, revocations=certs / "revocations.json", at=AT)
    listed = entries_by_file(tmp_path / "site")
    assert {n: (e["status"], e["revocation_checked"]) for n, e in listed.items()} == {
        "acme.json": ("valid", True), "other.json": ("valid", False)}
    assert ("revocations.json", "the revocation list given") in summary.skipped
    summary = build(certs, tmp_path / "site2", keyring, at=AT)
    assert "revocations.json" not in entries_by_file(tmp_path / "site2")
    assert any(name == "revocations.json" and "revocation list" in why for name, why in summary.skipped)


def test_unusable_inputs_are_refused_with_a_reason(sample, tmp_path):
    with pytest.raises(RegisterError, match="not a directory"):
        build(tmp_path / "missing", tmp_path / "site", sample.keys_dir)
    with pytest.raises(RegisterError, match="somewhere other than"):
        build(sample.certs, sample.certs, sample.keys_dir)
    with pytest.raises(RegisterError, match="public keys cannot be used"):
        build(sample.certs, tmp_path / "site", tmp_path / "no-such.pub")
    assert not (tmp_path / "site").exists()


def test_an_empty_directory_makes_an_empty_register_that_says_so(tmp_path, sample):
    (tmp_path / "certs").mkdir()
    summary = build(tmp_path / "certs", tmp_path / "site", sample.keys_dir, at=AT)
    assert summary.total == 0
    assert json.loads((tmp_path / "site" / "register.json").read_text())["certificates"] == []
    assert "No certificates have been issued yet" in (tmp_path / "site" / "index.html").read_text()


# --- HTML: escaping and offline ---------------------------------------------------------------------------


class Page(HTMLParser):
    """Every element, attribute, text and inline script of a page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def shown(self) -> str:
        """The text a reader sees, whitespace collapsed."""
        return re.sub(r"\s+", " ", "".join(self.text))


def site_pages(out: Path) -> dict[str, str]:
    pages = {"index.html": (out / "index.html").read_text(encoding="utf-8")}
    pages |= {f"certificates/{p.name}": p.read_text(encoding="utf-8") for p in (out / "certificates").glob("*.html")}
    return pages


def test_every_value_from_a_certificate_is_escaped(site, sample):
    out, _ = site
    number = sample.issued["evil.json"]["certificate"]["number"]
    for name, text in site_pages(out).items():
        if name not in ("index.html", f"certificates/{number}.html"):
            continue
        assert "<script>alert" not in text and "<img" not in text and "<b>Bold" not in text
        page = Page(text)
        assert not [tag for tag, _ in page.tags if tag == "img"]
        assert not [attrs for _, attrs in page.tags if any(k.startswith("on") for k in attrs)]
        assert len(page.scripts) == (1 if name == "index.html" else 0)
        assert "alert" not in "".join(page.scripts)
        shown = page.shown()
        assert HOSTILE_SUPPLIER in shown and "<b>Bold</b> HR" in shown  # shown as text, exactly
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    searchable = [attrs["data-search"] for tag, attrs in index.tags if tag == "tr" and "data-search" in attrs]
    assert any(HOSTILE_SUPPLIER.lower() in s for s in searchable)


_URL_IN_CSS = re.compile(r"url\(|@import", re.I)


def test_the_pages_load_nothing_from_a_network_and_forbid_it(site):
    out, _ = site
    for name, text in site_pages(out).items():
        page = Page(text)
        for tag, attrs in page.tags:
            for attribute in ("src", "href", "action", "srcset", "poster", "data"):
                value = (attrs.get(attribute) or "").strip().lower()
                assert not re.match(r"^(https?:|//|ftp:|ws)", value), f"{name}: <{tag} {attribute}={value}>"
            if tag == "link":
                pytest.fail(f"{name} links a resource: {attrs}")
            if tag in ("script", "img", "iframe", "object", "embed", "audio", "video", "source"):
                assert "src" not in attrs, f"{name} loads {attrs}"
        assert not any(_URL_IN_CSS.search(css) for css in page.styles), name
        assert not re.search(r"https?://", " ".join(page.scripts + page.styles)), name
        # links go only to files of the site itself
        for tag, attrs in page.tags:
            if tag == "a" and attrs.get("href"):
                assert (out / Path(name).parent / attrs["href"]).is_file(), f"{name}: broken link {attrs['href']}"
        # and the page's own policy forbids loading anything, allowing only its own inline style and script
        policy = next(attrs["content"] for tag, attrs in page.tags
                      if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
        assert "default-src 'none'" in policy
        for kind, blocks in (("style-src", page.styles), ("script-src", page.scripts)):
            for block in blocks:
                digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode()
                assert f"{kind} 'sha256-{digest}'" in policy, f"{name}: its own {kind} would be blocked"


def test_the_register_page_lists_every_entry_with_its_status_in_words(site, sample):
    out, _ = site
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    rows = [attrs for tag, attrs in page.tags if tag == "tr" and "data-search" in attrs]
    assert len(rows) == len(sample.expected)
    text = page.shown()
    for words in ("Valid", "Expired", "Revoked", "Not yet valid", "Not authentic"):
        assert words in text
    assert f"{len(sample.expected)} of {len(sample.expected)}" in text
    assert {"search", "shown"} <= {attrs.get("id") for _, attrs in page.tags}


# --- the printable certificate ----------------------------------------------------------------------------


def test_the_certificate_page_says_what_is_certified_and_how_to_check_it(sample):
    document = sample.issued["acme.json"]
    body = document["certificate"]
    text = certificate_page(document, "valid", checked_on=AT)
    shown = Page(text).shown()
    for value in (body["number"], body["supplier"], body["product"]["name"], body["product"]["version"],
                  body["issued_on"], body["expires_on"], body["issuer"]["name"], body["issuer"]["key_id"],
                  body["report_sha256"], body["standard_version"], body["suite_version"], *body["profiles"]):
        assert value in shown
    command = verify_command(body["number"], body["profiles"])
    assert command.startswith(f"plugshare certify verify {body['number']}.json --public-key issuer.pub")
    assert all(f"--profile {p}" in command for p in body["profiles"])
    assert command in shown
    assert f"Status on {AT.isoformat()}" in shown and "Valid" in shown
    assert "@media print" in text
    # the inner certificate alone gives the same page
    assert certificate_page(body, "valid", checked_on=AT) == text


@pytest.mark.parametrize(("status", "words"), [("expired", "Expired"), ("revoked", "Revoked"),
                                                 ("not_yet_valid", "Not yet valid"), (UNCHECKED, "Not checked")])
def test_the_certificate_page_states_a_status_that_is_not_valid_in_words(sample, status, words):
    text = certificate_page(sample.issued["acme.json"], status)
    shown = Page(text).shown()
    assert f"Status: {words}" in shown
    assert "Valid" not in shown.replace("Not yet valid", "")


def test_build_writes_a_page_for_each_certificate_with_its_status(site, sample):
    out, _ = site
    listed = entries_by_file(out)
    for name in sample.issued:
        shown = Page((out / listed[name]["page"]).read_text(encoding="utf-8")).shown()
        words = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked", "not_yet_valid": "Not yet valid"}
        assert f"Status on {AT.isoformat()}: {words[sample.expected[name]]}" in shown
        assert sample.issued[name]["certificate"]["number"] in shown


def test_a_moment_with_a_time_zone_dates_the_register_by_its_day_in_utc(sample, tmp_path):
    # 01:00 in Auckland on the day after AT is still AT in UTC
    auckland = dt.timezone(dt.timedelta(hours=13))
    summary = build(sample.certs, tmp_path / "site", keys.keyring(sample.keys_dir), revocations=sample.revocations,
                    at=dt.datetime.combine(AT + dt.timedelta(days=1), dt.time(1, 0), tzinfo=auckland))
    assert summary.generated_on == AT.isoformat()
    assert json.loads((tmp_path / "site" / "register.json").read_text())["generated_on"] == AT.isoformat()
