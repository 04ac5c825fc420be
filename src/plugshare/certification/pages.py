"""The pages people read: the printable certificate and the searchable register.

A procurement officer opens these from a shared drive or a USB stick, often with no network, and prints
them. So every page is one self-contained file: inline CSS and script, no fonts, images or scripts fetched
from anywhere, and a Content-Security-Policy that forbids loading anything else. Status is always written
in words (never colour alone), and every value taken from a certificate is HTML-escaped, because the text
in a certificate file is the supplier's, not ours.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

VALID, EXPIRED, REVOKED, NOT_YET_VALID, NOT_AUTHENTIC = "valid", "expired", "revoked", "not_yet_valid", "not_authentic"
#: a page printed without checking the certificate (``plugshare certify show``): the reader must verify it
UNCHECKED = "unchecked"
#: every status a register lists, best first
STATUSES = (VALID, NOT_YET_VALID, EXPIRED, REVOKED, NOT_AUTHENTIC)

#: status -> (the badge's words, what it means for a buyer)
STATUS_TEXT = {
    VALID: ("Valid", "the certificate is authentic (signed by the issuer), in date and not revoked"),
    NOT_YET_VALID: ("Not yet valid", "the certificate is authentic but its validity starts later"),
    EXPIRED: ("Expired", "the certificate is authentic but its validity has ended; ask the supplier for a "
                         "current one"),
    REVOKED: ("Revoked", "the issuer has withdrawn the certificate; do not rely on it"),
    NOT_AUTHENTIC: ("Not authentic", "the file is not a certificate signed by the issuer (unreadable, altered "
                                     "or signed with an unknown key); do not rely on anything it claims"),
    UNCHECKED: ("Not checked", "this page was printed without checking the certificate; run the command below "
                               "before relying on it"),
}


def e(value: Any) -> str:
    """Text as HTML (element content or a quoted attribute value)."""
    return html.escape("" if value is None else str(value), quote=True)


def status_words(status: str) -> str:
    """The badge's words for a status, e.g. ``Not authentic``; an unknown status is shown as itself."""
    return STATUS_TEXT.get(status, (status.replace("_", " ").capitalize(), ""))[0]


def badge(status: str) -> str:
    """The status as a badge: the words carry the meaning, the colour only repeats it."""
    return f'<span class="badge s-{e(status)}">{e(status_words(status))}</span>'


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def document(title: str, css: str, body: Iterable[str], script: str | None = None) -> str:
    """A whole self-contained page. The policy allows exactly its own inline style and script (by hash) and
    nothing else, so the page cannot fetch anything even if a value slipped through unescaped."""
    policy = ["default-src 'none'", f"style-src {_csp_hash(css)}", "img-src 'none'", "base-uri 'none'",
              "form-action 'none'"]
    if script is not None:
        policy.insert(2, f"script-src {_csp_hash(script)}")
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{e("; ".join(policy))}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="referrer" content="no-referrer">',
           f"<title>{e(title)}</title>", f"<style>{css}</style>", "</head>", "<body>", *body]
    if script is not None:
        out.append(f"<script>{script}</script>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


BASE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#1b1b1b;margin:2rem auto;max-width:64rem;
padding:0 1rem;line-height:1.45}
h1{font-size:2rem;margin:0 0 .3rem}h2{margin-top:2rem;border-bottom:2px solid #ccc;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #bbb;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f2f1}
dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem}dt{font-weight:bold}dd{margin:0}
.badge{display:inline-block;font-weight:bold;border:2px solid;border-radius:4px;padding:0 .4rem;white-space:nowrap}
.s-valid{color:#00703c}.s-expired,.s-not_yet_valid,.s-unchecked{color:#8a5a00}.s-revoked,.s-not_authentic{color:#d4351c}
code,pre{font-family:ui-monospace,Consolas,monospace}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.5rem;white-space:pre-wrap;word-break:break-all}
.muted{color:#505a5f}
"""

_CERT_CSS = BASE_CSS + """
.status{padding:1rem 1.4rem;border:4px solid;border-radius:6px;margin:1rem 0}
.status.s-valid{border-color:#00703c;background:#e6f4ec}
.status.s-expired,.status.s-not_yet_valid,.status.s-unchecked{border-color:#b58800;background:#fff7e0}
.status.s-revoked,.status.s-not_authentic{border-color:#d4351c;background:#fbeae7}
.status p{margin:.3rem 0}.big{font-size:1.4rem;font-weight:bold}.hash{word-break:break-all}
@media print{body{margin:0;max-width:none;font-size:10.5pt}.status{background:none}h2{break-after:avoid}
dl,pre,.status{break-inside:avoid}.noprint{display:none}}
"""


def inner(certificate: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The signed fields and the signature block, from a certificate file's document or its inner part."""
    if "plugshare_certificate" in certificate or "signature" in certificate:
        body = certificate.get("certificate")
        signature = certificate.get("signature")
        return (dict(body) if isinstance(body, Mapping) else {},
                dict(signature) if isinstance(signature, Mapping) else {})
    return dict(certificate), {}


def _field(mapping: Mapping[str, Any], *keys: str) -> Any:
    value: Any = mapping
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _profiles(value: Any) -> list[str]:
    return [str(p) for p in value] if isinstance(value, list) else []


def verify_command(number: Any, profiles: Iterable[str]) -> str:
    """The command a buyer runs on the certificate file to check it themselves."""
    parts = ["plugshare", "certify", "verify", f"{number or 'CERTIFICATE'}.json", "--public-key", "issuer.pub"]
    for profile in profiles:
        parts += ["--profile", profile]
    return " ".join(parts)


def certificate_page(certificate: Mapping[str, Any], status: str, *, checked_on: date | str | None = None,
                     revocation_checked: bool | None = None) -> str:
    """The printable certificate: what was certified, until when, by whom, and how to check it yourself.

    ``certificate`` is a certificate file's document (or its inner ``certificate`` part); ``status`` is one of
    :data:`STATUSES`, or :data:`UNCHECKED` when nothing was verified; ``checked_on`` is the date the status
    holds for; ``revocation_checked`` False says the status was found without the issuer's revocation list.
    The page shows what the certificate says and tells the reader to verify the file, because a
    printout on its own proves nothing."""
    body, signature = inner(certificate)
    number = body.get("number")
    supplier = body.get("supplier")
    name, version = _field(body, "product", "name"), _field(body, "product", "version")
    profiles = _profiles(body.get("profiles"))
    issuer_name = _field(body, "issuer", "name")
    key_id = _field(body, "issuer", "key_id") or signature.get("key_id")
    words, meaning = STATUS_TEXT.get(status, (status_words(status), ""))
    product = " ".join(str(v) for v in (name, version and f"version {version}") if v) or "(no product named)"
    on = f" on {checked_on}" if checked_on else ""
    profile_list = ", ".join(profiles) or "(none)"

    out = ['<main class="certificate">',
           f'<p class="muted">plugshare conformance certificate {e(number)}</p>',
           f"<h1>{e(product)}</h1>",
           f"<p>supplied by <strong>{e(supplier)}</strong></p>",
           f'<section class="status s-{e(status)}" id="status">',
           f'<p class="big">Status{e(on)}: {badge(status)}</p>']
    if meaning:
        out.append(f"<p>{e(meaning[0].upper() + meaning[1:])}.</p>")
    if revocation_checked is False and status not in (NOT_AUTHENTIC, UNCHECKED):
        out.append("<p>Revocation was not checked: no revocation list of its issuer was given.</p>")
    out.append("</section>")
    out.append(
        f"<p>This certifies that <strong>{e(product)}</strong> from <strong>{e(supplier)}</strong> passed every "
        f"required (MUST) check of the plugshare conformance suite {e(body.get('suite_version'))} for the "
        f"profiles <strong>{e(profile_list)}</strong>, against version {e(body.get('standard_version'))} of the "
        f"plugshare standard. It was issued by {e(issuer_name)} on {e(body.get('issued_on'))} and is valid until "
        f"{e(body.get('expires_on'))} unless revoked sooner.</p>")

    out += ['<h2>Profiles certified</h2>', '<ul id="profiles">']
    out += [f"<li>{e(p)}</li>" for p in profiles] or ["<li>none</li>"]
    out.append("</ul>")

    rows = [("Certificate number", number), ("Supplier", supplier), ("Product", name), ("Version", version),
            ("Standard version", body.get("standard_version")), ("Suite version", body.get("suite_version")),
            ("Kind of product tested", body.get("target_kind")), ("Issued on", body.get("issued_on")),
            ("Expires on", body.get("expires_on")), ("Issued by", issuer_name), ("Issuer key id", key_id)]
    out += ["<h2>Details</h2>", '<dl id="details">']
    out += [f"<dt>{e(label)}</dt><dd>{e('not stated' if value is None else value)}</dd>" for label, value in rows]
    out.append("</dl>")

    digests = [("Report (report.json) SHA-256", body.get("report_sha256")),
               ("Capability declaration SHA-256", body.get("declaration_sha256") or "no declaration")]
    out += ["<h2>What was tested</h2>",
            "<p>The certificate is bound to the conformance report it was issued from. Ask the supplier for "
            "the report: its SHA-256 must be the one below.</p>", "<dl>"]
    out += [f'<dt>{e(label)}</dt><dd class="hash"><code>{e(value)}</code></dd>' for label, value in digests]
    out.append("</dl>")

    command = verify_command(number, profiles)
    out += ['<h2>How to check this certificate</h2>',
            "<p>A printed or displayed page proves nothing on its own. Check the certificate file with the "
            "issuer's public key: it must say VALID.</p>",
            f'<pre id="verify-command">{e(command)}</pre>',
            f"<p>where <code>{e(number or 'CERTIFICATE')}.json</code> is the certificate file (in a register, "
            f"beside this page) and <code>issuer.pub</code> is the public key of {e(issuer_name)} whose key id is "
            f"<code>{e(key_id)}</code>. Add <code>--revocations FILE</code> with the issuer's current revocation "
            "list to check it has not been revoked.</p>",
            "</main>"]
    return document(f"Certificate {number or ''}: {product}, {words}", _CERT_CSS, out)
