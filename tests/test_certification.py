"""Certification: keys, certificates issued only from passing reports, verification, and signed revocation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from plugshare.certification import certificates, keys, revocations
from plugshare.certification.certificates import IssueError, describe, issue, verify
from plugshare.certification.keys import KeyFileError, document_text
from plugshare.certification.revocations import AlreadyRevoked, RevocationError, revoke
from plugshare.cli import main
from plugshare.conformance.report import ReportError, read_report, write_reports
from plugshare.models.canonical import canonical_json

ISSUED = dt.date(2026, 3, 2)


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> Path:
    """The report.json of a real, complete and conforming run of the suite over the hr-csv adapter."""
    from plugshare.conformance import suite

    report, _ = suite.run_adapter("hr-csv")
    return write_reports(report, tmp_path_factory.mktemp("passing"))["json"]


@pytest.fixture(scope="module")
def report(report_path) -> dict:
    return json.loads(report_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def issuer(tmp_path_factory) -> keys.KeyPair:
    return keys.generate(tmp_path_factory.mktemp("issuer"))


@pytest.fixture(scope="module")
def other_issuer(tmp_path_factory) -> keys.KeyPair:
    return keys.generate(tmp_path_factory.mktemp("other-issuer"))


@pytest.fixture(scope="module")
def private_key(issuer):
    return keys.load_private(issuer.private_key)


@pytest.fixture(scope="module")
def public_key(issuer):
    return keys.load_public(issuer.public_key)


@pytest.fixture(scope="module")
def issued(report_path, private_key) -> dict:
    return issue(report_path, private_key, supplier="Acme Payroll Ltd", product="Acme HR", version="4.2.0",
                 issuer_name="Example Certification Ltd", issued_on=ISSUED)


@pytest.fixture()
def cert_file(issued, tmp_path) -> Path:
    return certificates.write(issued, tmp_path / "certificate.json")


def edited_report(report: dict, tmp_path: Path, edit) -> Path:
    """A copy of the passing report with one edit, written the way the suite writes it."""
    copy = json.loads(json.dumps(report))
    edit(copy)
    path = tmp_path / "edited-report.json"
    path.write_text(json.dumps(copy, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def private_key_secrets(pair: keys.KeyPair) -> list[str]:
    """What must never be printed: each line of the private key's PEM body and its raw bytes in hex/base64."""
    pem = pair.private_key.read_text(encoding="ascii")
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    raw = keys.load_private(pair.private_key).private_bytes(serialization.Encoding.Raw,
                                                            serialization.PrivateFormat.Raw,
                                                            serialization.NoEncryption())
    return [*body, raw.hex(), base64.b64encode(raw).decode("ascii")]


# --- keys -----------------------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_for_its_owner_only_and_a_public_key(tmp_path):
    pair = keys.generate(tmp_path / "keys")
    assert pair.private_key == tmp_path / "keys" / "issuer.key"
    assert pair.public_key == tmp_path / "keys" / "issuer.pub"
    assert pair.private_key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert pair.public_key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    if os.name == "posix":
        assert pair.private_key.stat().st_mode & 0o777 == 0o600
        assert pair.public_key.stat().st_mode & 0o077 == 0o044  # readable by anyone, writable by none
    private, public = keys.load_private(pair.private_key), keys.load_public(pair.public_key)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert pair.key_id == "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]
    assert keys.key_id(private.public_key()) == keys.key_id(public) == pair.key_id
    assert private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw


def test_two_keygens_make_different_keys_and_an_existing_key_is_never_overwritten(tmp_path):
    first = keys.generate(tmp_path / "a")
    assert keys.generate(tmp_path / "b").key_id != first.key_id
    before = first.private_key.read_bytes()
    with pytest.raises(KeyFileError, match="never overwritten"):
        keys.generate(tmp_path / "a")
    assert first.private_key.read_bytes() == before


def test_key_files_that_are_missing_garbled_or_the_wrong_half_are_refused_with_what_to_do(tmp_path, issuer):
    with pytest.raises(KeyFileError) as missing:
        keys.load_private(tmp_path / "nowhere.key")
    assert missing.value.path == tmp_path / "nowhere.key" and "no such file" in str(missing.value)
    assert "keygen" in str(missing.value)
    garbled = tmp_path / "garbled.pub"
    garbled.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    with pytest.raises(KeyFileError, match="not a PEM public key"):
        keys.load_public(garbled)
    with pytest.raises(KeyFileError, match="is a public key"):
        keys.load_private(issuer.public_key)
    with pytest.raises(KeyFileError, match="is a private key") as wrong_half:
        keys.load_public(issuer.private_key)
    assert not any(secret in str(wrong_half.value) for secret in private_key_secrets(issuer))


def test_a_keyring_holds_every_public_key_in_a_directory_by_key_id(tmp_path, issuer, other_issuer):
    ring = tmp_path / "ring"
    ring.mkdir()
    with pytest.raises(KeyFileError, match="no \\*.pub"):
        keys.keyring(ring)
    shutil.copy(issuer.public_key, ring / "example.pub")
    shutil.copy(other_issuer.public_key, ring / "other.pub")
    assert set(keys.keyring(ring)) == {issuer.key_id, other_issuer.key_id}
    (ring / "broken.pub").write_text("garbage")
    with pytest.raises(KeyFileError, match="broken.pub"):
        keys.keyring(ring)


# --- issuing --------------------------------------------------------------------------------------------


def test_a_certificate_issued_from_a_passing_report_binds_the_report_and_is_signed(issued, report_path, report,
                                                                                   issuer, public_key):
    assert set(issued) == {"plugshare_certificate", "certificate", "signature"}
    cert = issued["certificate"]
    assert re.fullmatch(r"PSC-2026-[0-9A-F]{8}", cert["number"])
    assert cert["supplier"] == "Acme Payroll Ltd"
    assert cert["product"] == {"name": "Acme HR", "version": "4.2.0"}
    assert cert["profiles"] == sorted(report["profiles"]) and cert["profiles"]
    assert cert["target_kind"] == report["target"]["kind"] == "adapter"
    assert cert["standard_version"] == report["standard_version"]
    assert cert["suite_version"] == report["suite_version"]
    assert cert["report_sha256"] == hashlib.sha256(report_path.read_bytes()).hexdigest()
    assert cert["declaration_sha256"] == report["declaration_sha256"]
    assert (cert["issued_on"], cert["expires_on"]) == ("2026-03-02", "2027-03-02")
    assert cert["issuer"] == {"name": "Example Certification Ltd", "key_id": issuer.key_id}
    signature = issued["signature"]
    assert signature["algorithm"] == "Ed25519" and signature["key_id"] == issuer.key_id
    # checked with the library directly, not with plugshare's own verifier
    public_key.verify(base64.b64decode(signature["value"]), canonical_json(cert).encode("utf-8"))


def test_each_certificate_gets_its_own_number(report_path, private_key, issued):
    again = issue(report_path, private_key, supplier="Acme Payroll Ltd", product="Acme HR", version="4.2.0",
                  issued_on=ISSUED)
    assert again["certificate"]["number"] != issued["certificate"]["number"]
    assert again["certificate"]["issuer"]["name"] == again["certificate"]["issuer"]["key_id"]


def test_validity_is_a_year_by_default_or_as_given(report_path, private_key):
    def dates(**kwargs):
        cert = issue(report_path, private_key, supplier="S", product="P", version="1", **kwargs)["certificate"]
        return cert["issued_on"], cert["expires_on"]

    assert dates(issued_on=dt.date(2028, 2, 29)) == ("2028-02-29", "2029-02-28")
    assert dates(issued_on=ISSUED, valid_days=30) == ("2026-03-02", "2026-04-01")
    assert dates(issued_on=ISSUED, expires_on=dt.date(2026, 9, 1)) == ("2026-03-02", "2026-09-01")
    assert dates()[0] == dt.datetime.now(dt.UTC).date().isoformat()
    with pytest.raises(IssueError, match="not both"):
        dates(valid_days=10, expires_on=dt.date(2030, 1, 1))
    with pytest.raises(IssueError, match="not after the issue date"):
        dates(issued_on=ISSUED, expires_on=ISSUED)
    with pytest.raises(IssueError, match="at least one day"):
        dates(valid_days=0)


@pytest.mark.parametrize("field, value, reason", [
    ("supplier", "", "empty"),
    ("supplier", "Acme\nLtd", "line break"),
    ("product", "HR\x1b[31m", "control character"),
    ("version", " 4.2", "spaces"),
])
def test_details_that_cannot_go_on_a_certificate_are_refused(report_path, private_key, field, value, reason):
    details = {"supplier": "S", "product": "P", "version": "1", field: value}
    with pytest.raises(IssueError, match=reason):
        issue(report_path, private_key, **details)


def _fail_first_must(document: dict) -> None:
    first = next(r for r in document["results"] if r["level"] == "MUST")
    first["verdict"] = "fail"


def test_a_report_with_a_must_failure_is_refused_even_if_its_verdict_was_left_as_conforms(report, tmp_path,
                                                                                          private_key):
    path = edited_report(report, tmp_path, _fail_first_must)
    document = read_report(path)  # a valid report.json: the form allows it, so issuing must catch it
    assert document["verdict"] == "conforms"
    failed = next(r for r in document["results"] if r["verdict"] == "fail")
    with pytest.raises(IssueError, match="MUST") as refused:
        issue(path, private_key, supplier="S", product="P", version="1")
    assert failed["id"] in str(refused.value) and "failed" in str(refused.value)


@pytest.mark.parametrize("verdict, words", [("error", "could not finish"), ("skipped", "was skipped")])
def test_a_must_check_that_erred_or_was_skipped_is_refused(report, tmp_path, private_key, verdict, words):
    def edit(document):
        next(r for r in document["results"] if r["level"] == "MUST")["verdict"] = verdict

    with pytest.raises(IssueError, match=words):
        issue(edited_report(report, tmp_path, edit), private_key, supplier="S", product="P", version="1")


def test_a_report_that_does_not_conform_is_refused_with_its_reason(report, tmp_path, private_key):
    def edit(document):
        document["verdict"] = "does_not_conform"
        document["profile_summaries"][0].update(verdict="does_not_conform", reason="it showed nothing")

    with pytest.raises(IssueError, match="does not conform.*it showed nothing"):
        issue(edited_report(report, tmp_path, edit), private_key, supplier="S", product="P", version="1")


def test_a_run_of_only_some_checks_is_refused(tmp_path, private_key):
    from plugshare.conformance import suite

    asked = suite.request(adapter_key="hr-csv", profile_ids=["hr-core"], only=["PSC-SCH-002"])
    the_plan = suite.plan(asked)
    partial = suite.execute(suite.open_target(asked, the_plan), the_plan)
    path = write_reports(partial, tmp_path / "partial")["json"]
    document = read_report(path)
    assert not document["complete"] and document["selected"] == ["PSC-SCH-002"]
    with pytest.raises(IssueError, match="not a complete run"):
        issue(path, private_key, supplier="S", product="P", version="1")


def test_a_profile_the_report_did_not_pass_is_refused(report_path, report, tmp_path, private_key):
    assert "payroll-core" not in report["profiles"]
    with pytest.raises(IssueError, match="not a run of profile 'payroll-core'"):
        issue(report_path, private_key, supplier="S", product="P", version="1", profiles=["payroll-core"])
    one = issue(report_path, private_key, supplier="S", product="P", version="1", profiles=["hr-core"])
    assert one["certificate"]["profiles"] == ["hr-core"]

    def edit(document):
        summary = next(s for s in document["profile_summaries"] if s["profile"] == "portability")
        summary.update(verdict="does_not_conform", reason="required checks did not pass")

    path = edited_report(report, tmp_path, edit)
    with pytest.raises(IssueError, match="profile 'portability' was not passed: required checks did not pass"):
        issue(path, private_key, supplier="S", product="P", version="1", profiles=["portability"])


def test_a_garbled_report_is_refused_by_read_report_and_so_by_issue(report, report_path, tmp_path, private_key):
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(report_path.read_bytes()[:500])
    not_a_report = edited_report(report, tmp_path, lambda d: d.pop("counts"))
    for path, reason in ((truncated, "not JSON"), (not_a_report, "not a valid conformance report")):
        with pytest.raises(ReportError, match=reason):
            read_report(path)
        with pytest.raises(IssueError, match=reason):
            issue(path, private_key, supplier="S", product="P", version="1")
    with pytest.raises(IssueError, match="no such report"):
        issue(tmp_path / "absent.json", private_key, supplier="S", product="P", version="1")


def test_a_report_for_another_version_of_the_standard_is_refused(report, tmp_path, private_key):
    path = edited_report(report, tmp_path, lambda d: d.update(standard_version="0.9.0"))
    with pytest.raises(IssueError, match="standard version 0.9.0"):
        issue(path, private_key, supplier="S", product="P", version="1")


# --- verifying ------------------------------------------------------------------------------------------


def test_a_certificate_issued_from_a_passing_report_verifies(cert_file, public_key, issued):
    verdict = verify(cert_file, public_key=public_key, profiles=["hr-core", "portability"], at=ISSUED)
    assert verdict.ok and verdict.problems == [] and verdict.status == "valid"
    assert verdict.certificate == issued["certificate"]
    lines = describe(verdict)
    assert lines[0].startswith("VALID: certificate " + issued["certificate"]["number"])
    assert "Acme Payroll Ltd" in lines[0] and any("hr-core, portability" in line for line in lines)
    assert any("revocation was not checked" in line for line in lines)
    assert verify(cert_file.read_bytes(), public_key=public_key, at=ISSUED).ok  # bytes as well as a path


def test_changing_any_single_byte_makes_the_certificate_not_authentic(cert_file, public_key):
    original = cert_file.read_bytes()
    reasons = set()
    for position in range(len(original)):
        for bit in range(8):
            changed = bytearray(original)
            changed[position] ^= 1 << bit
            verdict = verify(bytes(changed), public_key=public_key, at=ISSUED)
            assert not verdict.ok, f"byte {position} bit {bit} went unnoticed"
            assert verdict.kinds == {"not_authentic"}
            lines = describe(verdict)
            assert lines[0].startswith("NOT VALID") and "not authentic" in lines[1]
            reasons.add("signature" if "signature" in verdict.problems[0].text
                        else "unreadable" if "unreadable" in verdict.problems[0].text else "form")
    # every path was taken: a flip that leaves valid JSON in the exact form is caught by the signature
    assert {"signature", "unreadable"} <= reasons


def test_a_certificate_reformatted_or_with_invisible_changes_is_not_authentic(cert_file, public_key, issued):
    text = cert_file.read_text(encoding="utf-8")
    assert verify(text.replace("\n", "\r\n").encode(), public_key=public_key, at=ISSUED).ok  # Windows line ends
    for changed in (json.dumps(issued),  # same content, another layout
                    text.replace("  ", "\t", 1),  # a single byte, still the same JSON
                    text + "\n"):  # a byte added
        verdict = verify(changed.encode(), public_key=public_key, at=ISSUED)
        assert verdict.kinds == {"not_authentic"} and "byte for byte" in verdict.problems[0].text


def test_a_certificate_edited_and_rewritten_neatly_fails_its_signature(issued, public_key):
    edited = json.loads(json.dumps(issued))
    edited["certificate"]["profiles"].append("payroll-core")
    edited["certificate"]["profiles"].sort()
    verdict = verify(document_text(edited).encode(), public_key=public_key, profiles=["payroll-core"], at=ISSUED)
    assert not verdict.ok and verdict.kinds == {"not_authentic"}
    assert "signature does not match" in verdict.problems[0].text and not verdict.authentic


def test_a_certificate_signed_with_another_key_is_not_authentic(report_path, other_issuer, public_key):
    forged = issue(report_path, keys.load_private(other_issuer.private_key), supplier="S", product="P",
                   version="1", issued_on=ISSUED)
    verdict = verify(document_text(forged).encode(), public_key=public_key, at=ISSUED)
    assert verdict.kinds == {"not_authentic"} and other_issuer.key_id in verdict.problems[0].text
    # and one that claims the real issuer's key id but is signed with another key
    forged["certificate"]["issuer"]["key_id"] = forged["signature"]["key_id"] = keys.key_id(public_key)
    verdict = verify(document_text(forged).encode(), public_key=public_key, at=ISSUED)
    assert verdict.kinds == {"not_authentic"} and "signature does not match" in verdict.problems[0].text


def test_files_that_are_not_certificates_are_not_authentic(tmp_path, public_key, issued):
    wrong_format = json.loads(json.dumps(issued))
    wrong_format["plugshare_certificate"] = 2
    cases = {b"": "not JSON", b"\xff\xfe": "not UTF-8", b"[]\n": "not a JSON object",
             document_text({"hello": 1}).encode(): "not a plugshare certificate",
             document_text(wrong_format).encode(): "format 2"}
    for data, reason in cases.items():
        verdict = verify(data, public_key=public_key)
        assert verdict.kinds == {"not_authentic"} and reason in verdict.problems[0].text, data
    verdict = verify(tmp_path / "absent.json", public_key=public_key)
    assert verdict.kinds == {"not_authentic"} and "unreadable" in verdict.problems[0].text


def test_expired_and_not_yet_valid_are_reported_for_the_date_asked(cert_file, public_key, issued):
    expires = dt.date.fromisoformat(issued["certificate"]["expires_on"])
    assert verify(cert_file, public_key=public_key, at=expires - dt.timedelta(days=1)).ok
    expired = verify(cert_file, public_key=public_key, at=expires)
    assert not expired.ok and expired.kinds == {"expired"} and expired.status == "expired"
    assert f"expired on {expires.isoformat()}" in describe(expired)[1]
    early = verify(cert_file, public_key=public_key, at=ISSUED - dt.timedelta(days=1))
    assert not early.ok and early.kinds == {"not_yet_valid"}
    assert "not yet valid" in describe(early)[1] and ISSUED.isoformat() in describe(early)[1]


def test_a_certificate_lacking_a_profile_asked_for_is_refused(cert_file, public_key):
    verdict = verify(cert_file, public_key=public_key, profiles=["hr-core", "payroll-core"], at=ISSUED)
    assert not verdict.ok and verdict.kinds == {"missing_profile"}
    assert len(verdict.problems) == 1 and "'payroll-core'" in verdict.problems[0].text
    assert describe(verdict)[0].startswith("NOT VALID")


def test_with_a_keyring_the_signing_key_is_found_by_its_id_and_an_unknown_one_is_not_authentic(
        tmp_path, cert_file, issuer, other_issuer):
    ring = tmp_path / "ring"
    ring.mkdir()
    shutil.copy(other_issuer.public_key, ring / "other.pub")
    unknown = verify(cert_file, keyring=keys.keyring(ring), at=ISSUED)
    assert unknown.kinds == {"not_authentic"} and "not in the keyring" in unknown.problems[0].text
    assert issuer.key_id in unknown.problems[0].text
    shutil.copy(issuer.public_key, ring / "example.pub")
    assert verify(cert_file, keyring=keys.keyring(ring), at=ISSUED).ok
    with pytest.raises(ValueError, match="exactly one"):
        verify(cert_file, at=ISSUED)


# --- revocation -----------------------------------------------------------------------------------------


def test_a_revoked_certificate_is_reported_as_revoked_from_the_day_of_revocation(tmp_path, cert_file, issued,
                                                                                 private_key, public_key):
    number = issued["certificate"]["number"]
    on = ISSUED + dt.timedelta(days=10)
    listed = revoke(tmp_path / "revocations.json", private_key, number, "issued in error", on=on)
    assert listed.find(number).reason == "issued in error"
    verdict = verify(cert_file, public_key=public_key, at=on, revocations=tmp_path / "revocations.json")
    assert not verdict.ok and verdict.kinds == {"revoked"} and verdict.status == "revoked"
    assert "issued in error" in describe(verdict)[1] and on.isoformat() in describe(verdict)[1]
    before = verify(cert_file, public_key=public_key, at=on - dt.timedelta(days=1),
                    revocations=tmp_path / "revocations.json")
    assert before.ok and any("not revoked" in line for line in describe(before))


def test_revoking_extends_and_re_signs_the_list_and_twice_changes_nothing(tmp_path, private_key, public_key):
    path = tmp_path / "revocations.json"
    revoke(path, private_key, "PSC-2026-00000002", "second", on=ISSUED)
    revoke(path, private_key, "PSC-2026-00000001", "first", on=ISSUED + dt.timedelta(days=3))
    loaded = revocations.load(path, public_key)
    assert [e.number for e in loaded.revoked] == ["PSC-2026-00000001", "PSC-2026-00000002"]
    assert loaded.updated_on == ISSUED + dt.timedelta(days=3)
    before = path.read_bytes()
    with pytest.raises(AlreadyRevoked, match="already revoked on 2026-03-02"):
        revoke(path, private_key, "PSC-2026-00000002", "again", on=ISSUED + dt.timedelta(days=5))
    assert path.read_bytes() == before
    with pytest.raises(RevocationError, match="PSC-YYYY-XXXXXXXX"):
        revoke(path, private_key, "PSC-26-1", "bad number")


def test_a_tampered_or_forged_revocation_list_is_refused(tmp_path, issued, cert_file, private_key, public_key,
                                                         other_issuer):
    number = issued["certificate"]["number"]
    path = tmp_path / "revocations.json"
    revoke(path, private_key, number, "issued in error", on=ISSUED)
    original = path.read_bytes()
    # un-revoking by deleting the entry, rewritten neatly: the signature no longer matches
    document = json.loads(original)
    document["revocations"]["revoked"] = []
    unrevoked = tmp_path / "unrevoked.json"
    unrevoked.write_text(document_text(document), encoding="utf-8")
    with pytest.raises(RevocationError, match="not authentic.*signature does not match"):
        revocations.load(unrevoked, public_key)
    with pytest.raises(RevocationError, match="not authentic"):
        verify(cert_file, public_key=public_key, at=ISSUED, revocations=unrevoked)
    # any single byte changed
    for position in range(len(original)):
        changed = bytearray(original)
        changed[position] ^= 1 << (position % 8)
        with pytest.raises(RevocationError, match="not authentic"):
            revocations.parse(bytes(changed), public_key)
    # a list made by someone else, naming itself or the real issuer
    other = keys.load_private(other_issuer.private_key)
    forged = tmp_path / "forged.json"
    revoke(forged, other, number, "forged", on=ISSUED)
    with pytest.raises(RevocationError, match="not by the key given"):
        revocations.load(forged, public_key)
    document = json.loads(forged.read_bytes())
    document["revocations"]["issuer_key_id"] = document["signature"]["key_id"] = keys.key_id(public_key)
    forged.write_text(document_text(document), encoding="utf-8")
    with pytest.raises(RevocationError, match="signature does not match"):
        revocations.load(forged, public_key)
    # nor does an issuer extend a list it did not sign
    with pytest.raises(RevocationError, match="not authentic"):
        revoke(forged, private_key, "PSC-2026-0000000A", "extend a forgery")


def test_another_issuers_revocation_list_cannot_vouch_for_a_certificate(tmp_path, cert_file, issuer, other_issuer):
    other = tmp_path / "other.json"
    revoke(other, keys.load_private(other_issuer.private_key), "PSC-2026-0000000B", "theirs", on=ISSUED)
    ring = tmp_path / "ring"
    ring.mkdir()
    shutil.copy(issuer.public_key, ring / "example.pub")
    shutil.copy(other_issuer.public_key, ring / "other.pub")
    # the list is authentic (the keyring trusts its issuer) but says nothing about this issuer's certificates
    assert revocations.load(other, keys.keyring(ring)).issuer_key_id == other_issuer.key_id
    with pytest.raises(RevocationError, match="give that issuer's list"):
        verify(cert_file, keyring=keys.keyring(ring), at=ISSUED, revocations=other)


# --- the command line -----------------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(main, ["certify", *map(str, args)])


def test_cli_keygen_issue_verify_revoke_and_show(tmp_path, report_path):
    keys_dir, cert, listing, page = tmp_path / "keys", tmp_path / "cert.json", tmp_path / "rl.json", tmp_path / "c.html"
    outputs = []

    def call(expected: int, *args):
        result = run(*args)
        outputs.append(result.output)
        assert result.exit_code == expected, result.output
        assert "Traceback" not in result.output
        return result

    made = call(0, "keygen", "--out", keys_dir)
    pair = keys.KeyPair(keys_dir / "issuer.key", keys_dir / "issuer.pub",
                        keys.key_id(keys.load_public(keys_dir / "issuer.pub")))
    assert pair.key_id in made.output and "keep it secret" in made.output
    call(2, "keygen", "--out", keys_dir)
    issued = call(0, "issue", "--report", report_path, "--key", pair.private_key, "--out", cert,
                  "--supplier", "Acme Payroll Ltd", "--product", "Acme HR", "--version", "4.2.0",
                  "--issuer", "Example Certification Ltd", "--valid-days", "90")
    number = json.loads(cert.read_text())["certificate"]["number"]
    assert number in issued.output
    call(2, "issue", "--report", report_path, "--key", pair.private_key, "--out", cert, "--supplier", "S",
         "--product", "P", "--version", "1")  # never overwrites a certificate
    call(2, "issue", "--report", report_path, "--key", pair.private_key, "--out", tmp_path / "x.json",
         "--supplier", "S", "--product", "P", "--version", "1", "--valid-days", "5", "--expires", "2030-01-01")
    call(2, "issue", "--report", report_path, "--key", pair.public_key, "--out", tmp_path / "x.json",
         "--supplier", "S", "--product", "P", "--version", "1")
    refused = call(1, "issue", "--report", report_path, "--key", pair.private_key, "--out", tmp_path / "x.json",
                   "--supplier", "S", "--product", "P", "--version", "1", "--profile", "payroll-core")
    assert "REFUSED" in refused.output and "payroll-core" in refused.output and not (tmp_path / "x.json").exists()

    valid = call(0, "verify", cert, "--public-key", pair.public_key, "--profile", "hr-core")
    assert valid.output.startswith(f"VALID: certificate {number}")
    call(0, "verify", cert, "--keyring", keys_dir)
    later = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=400)).isoformat()
    expired = call(1, "verify", cert, "--public-key", pair.public_key, "--at", later, "--profile", "payroll-core")
    assert expired.output.startswith("NOT VALID") and "- expired:" in expired.output
    assert "- missing profile:" in expired.output
    call(2, "verify", cert)
    call(2, "verify", cert, "--public-key", pair.public_key, "--keyring", keys_dir)
    call(2, "verify", cert, "--public-key", pair.public_key, "--at", "31/03/2026")
    call(2, "verify", tmp_path / "absent.json", "--public-key", pair.public_key)
    tampered = tmp_path / "tampered.json"
    tampered.write_text(cert.read_text().replace("Acme HR", "Acme HQ"))
    not_authentic = call(1, "verify", tampered, "--public-key", pair.public_key)
    assert "not authentic" in not_authentic.output

    call(0, "show", cert, "--html", page)
    assert number in page.read_text() and "Not checked" in page.read_text()
    call(1, "show", tampered, "--html", tmp_path / "t.html", "--public-key", pair.public_key)
    assert not (tmp_path / "t.html").exists()

    revoked = call(0, "revoke", "--key", pair.private_key, "--list", listing, "--number", number,
                   "--reason", "issued in error")
    assert number in revoked.output
    assert "already revoked" in call(0, "revoke", "--key", pair.private_key, "--list", listing, "--number", number,
                                     "--reason", "again").output
    call(2, "revoke", "--key", pair.private_key, "--list", listing, "--number", "not-a-number", "--reason", "x")
    gone = call(1, "verify", cert, "--public-key", pair.public_key, "--revocations", listing)
    assert "- revoked:" in gone.output and "issued in error" in gone.output
    call(0, "show", cert, "--html", page, "--public-key", pair.public_key, "--revocations", listing)
    assert "Revoked" in page.read_text()
    listing.write_text(listing.read_text().replace(number, "PSC-2026-00000000"))
    forged = call(2, "verify", cert, "--public-key", pair.public_key, "--revocations", listing)
    assert "not authentic" in forged.output

    secrets = private_key_secrets(pair)
    for output in outputs:
        assert not any(secret in output for secret in secrets)


def test_a_moment_with_a_time_zone_is_checked_on_its_day_in_utc(cert_file, public_key, issued, report_path,
                                                                   private_key):
    # 23:30 on the day before issue in New York is already the day of issue in UTC
    new_york = dt.timezone(dt.timedelta(hours=-5))
    assert verify(cert_file, public_key=public_key, at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=new_york)).ok
    early = verify(cert_file, public_key=public_key, at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC))
    assert early.kinds == {"not_yet_valid"}
    expires = dt.date.fromisoformat(issued["certificate"]["expires_on"])
    last = dt.datetime.combine(expires - dt.timedelta(days=1), dt.time(23, 59))  # naive: taken as UTC
    assert verify(cert_file, public_key=public_key, at=last).ok
    document = issue(report_path, private_key, supplier="S", product="P", version="1",
                     issued_on=dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))))
    assert document["certificate"]["issued_on"] == "2026-03-01"


def test_a_private_key_others_can_read_is_used_with_a_warning_saying_how_to_fix_it(tmp_path, report_path):
    pair = keys.generate(tmp_path / "keys")
    assert keys.exposure(pair.private_key) is None
    common = ["--report", report_path, "--key", pair.private_key, "--supplier", "S", "--product", "P",
              "--version", "1"]
    private = run("issue", *common, "--out", tmp_path / "a.json")
    assert private.exit_code == 0 and "warning" not in private.output
    os.chmod(pair.private_key, 0o644)
    assert "chmod 600" in keys.exposure(pair.private_key)
    exposed = run("issue", *common, "--out", tmp_path / "b.json")
    assert exposed.exit_code == 0, exposed.output
    assert "warning:" in exposed.output and f"chmod 600 {pair.private_key}" in exposed.output


def test_a_page_shown_as_valid_without_a_revocation_list_says_revocation_was_not_checked(tmp_path, cert_file,
                                                                                          issuer, private_key,
                                                                                          issued):
    page = tmp_path / "page.html"
    assert run("show", cert_file, "--html", page, "--public-key", issuer.public_key,
               "--at", ISSUED.isoformat()).exit_code == 0
    assert "Valid" in page.read_text() and "Revocation was not checked" in page.read_text()
    listing = tmp_path / "rl.json"
    revoke(listing, private_key, "PSC-2026-00000001", "another certificate", on=ISSUED)
    assert run("show", cert_file, "--html", page, "--public-key", issuer.public_key, "--at", ISSUED.isoformat(),
               "--revocations", listing).exit_code == 0
    assert "Valid" in page.read_text() and "Revocation was not checked" not in page.read_text()
