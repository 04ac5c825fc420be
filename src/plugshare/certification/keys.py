"""An issuer's Ed25519 keys, and the signed JSON documents (certificates, revocation lists) made with them.

The private key signs and never leaves the issuer; the public key is what buyers are given. A key is named by
its key id, taken from the public key itself, so a document says which key signed it and a verifier holding
several issuers' keys (a keyring) picks the right one. A signed document is written in exactly one form and is
read back only in that form, so a change to any single byte of the file is caught: either the text is no longer
that form, or it no longer parses, or the signature fails.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plugshare.models.canonical import DuplicateKey, NonJsonConstant, canonical_json, strict_loads

PRIVATE_KEY_FILE = "issuer.key"
PUBLIC_KEY_FILE = "issuer.pub"
ALGORITHM = "Ed25519"
KEY_ID = re.compile(r"^ed25519:[0-9a-f]{16}$")
SIGNATURE_BYTES = 64
SIGNATURE_FIELDS = frozenset({"algorithm", "key_id", "value"})


class KeyFileError(ValueError):
    """A key file or keyring that is missing or cannot be used: names the path and what to do."""

    def __init__(self, path: Path | str, problem: str, fix: str):
        self.path, self.problem, self.fix = Path(path), problem, fix
        super().__init__(f"{path}: {problem}; {fix}")


class DocumentError(ValueError):
    """A signed document that cannot be read as one: not UTF-8 JSON, or not in the exact form it was written."""


@dataclass(frozen=True)
class KeyPair:
    """Where ``generate`` wrote the keys, and the key id certificates will carry."""

    private_key: Path
    public_key: Path
    key_id: str


def key_id(public_key: Ed25519PublicKey) -> str:
    """``ed25519:`` and the first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def generate(out_dir: Path | str) -> KeyPair:
    """A new key pair in ``out_dir``: issuer.key (PKCS8 PEM, readable by its owner only) and issuer.pub.

    An existing key is never overwritten: losing an issuer's private key would orphan every certificate it
    signed, so a directory that already holds one is refused.
    """
    out = Path(out_dir)
    private_path, public_path = out / PRIVATE_KEY_FILE, out / PUBLIC_KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            raise KeyFileError(path, "already exists, and an issuer's key is never overwritten",
                               "choose another --out directory, or move the old keys away first")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise KeyFileError(out, f"cannot be created ({error.strerror})", "choose a directory you can write to") \
            from None
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    public_pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except KeyFileError:
        private_path.unlink()
        raise
    return KeyPair(private_path, public_path, key_id(private_key.public_key()))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (no moment when a private key is readable by others)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    except FileExistsError:
        raise KeyFileError(path, "already exists, and an issuer's key is never overwritten",
                           "choose another --out directory") from None
    except OSError as error:
        raise KeyFileError(path, f"cannot be written ({error.strerror})", "choose a directory you can write to") \
            from None
    with os.fdopen(fd, "wb") as stream:
        if hasattr(os, "fchmod"):
            os.fchmod(stream.fileno(), mode)  # the umask may only narrow the mode; make it exactly this
        stream.write(data)


def _read_key_file(path: Path, what: str, fix: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(path, "no such file", fix) from None
    except IsADirectoryError:
        raise KeyFileError(path, f"is a directory, not {what}", fix) from None
    except OSError as error:
        raise KeyFileError(path, f"cannot be read ({error.strerror})", fix) from None


def load_private(path: Path | str) -> Ed25519PrivateKey:
    """The issuer's private key from its PEM file (as ``generate`` wrote it)."""
    path = Path(path)
    fix = f"give the {PRIVATE_KEY_FILE} that 'plugshare certify keygen' wrote"
    data = _read_key_file(path, "a private key", fix)
    if b"PRIVATE KEY" not in data and b"PUBLIC KEY" in data:
        raise KeyFileError(path, "is a public key, and signing needs the private key", fix)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # encrypted: this tool writes and reads unencrypted keys kept safe by file permissions
        raise KeyFileError(path, "is an encrypted private key", "give an unencrypted PKCS8 PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(path, "is not a PEM private key (the file is damaged or of another kind)", fix) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(path, f"holds a {type(key).__name__.removeprefix('_')} key, not an Ed25519 key", fix)
    return key


def exposure(path: Path | str) -> str | None:
    """Why the private key file at ``path`` is not kept private (readable or writable by others than its owner),
    or None. Whoever can read it can issue certificates in the issuer's name."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if os.name != "posix" or not mode & 0o077:
        return None
    return (f"{path} can be read or changed by other users (mode {mode:04o}), and whoever reads it can issue "
            f"certificates in the issuer's name; make it private with: chmod 600 {path}")


def load_public(path: Path | str) -> Ed25519PublicKey:
    """An issuer's public key from its PEM file (``issuer.pub``)."""
    path = Path(path)
    fix = f"give the issuer's public key, the {PUBLIC_KEY_FILE} that 'plugshare certify keygen' wrote"
    data = _read_key_file(path, "a public key", fix)
    if b"PRIVATE KEY" in data:
        raise KeyFileError(path, "is a private key, which must stay with its issuer", fix)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(path, "is not a PEM public key (the file is damaged or of another kind)", fix) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(path, f"holds a {type(key).__name__.removeprefix('_')} key, not an Ed25519 key", fix)
    return key


def keyring(directory: Path | str) -> dict[str, Ed25519PublicKey]:
    """Every issuer public key (``*.pub``) in ``directory``, by key id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KeyFileError(directory, "is not a directory", "give a directory holding issuers' *.pub files")
    keys = {}
    for path in sorted(directory.glob("*.pub")):
        key = load_public(path)
        keys[key_id(key)] = key
    if not keys:
        raise KeyFileError(directory, "holds no *.pub file", "copy each trusted issuer's public key into it")
    return keys


def find_key(wanted: str, public_key: Ed25519PublicKey | None = None,
             keys: Mapping[str, Ed25519PublicKey] | None = None) -> tuple[Ed25519PublicKey | None, str | None]:
    """The key with id ``wanted`` from the one key given or from a keyring, or why there is none."""
    if (public_key is None) == (keys is None):
        raise ValueError("give exactly one of public_key or keyring")
    if public_key is not None:
        given = key_id(public_key)
        if given != wanted:
            return None, f"it was signed by key {wanted}, not by the key given ({given})"
        return public_key, None
    assert keys is not None
    if wanted not in keys:
        return None, f"it was signed by key {wanted}, which is not in the keyring (an unknown issuer)"
    return keys[wanted], None


# --- signed documents -----------------------------------------------------------------------------------


def sign(private_key: Ed25519PrivateKey, body: Any) -> dict[str, str]:
    """The signature member of a document: Ed25519 over the canonical JSON of ``body`` (UTF-8)."""
    value = private_key.sign(canonical_json(body).encode("utf-8"))
    return {"algorithm": ALGORITHM, "key_id": key_id(private_key.public_key()),
            "value": base64.b64encode(value).decode("ascii")}


def signature_problem(signature: Any) -> str | None:
    """Why ``signature`` is not a signature member of the form ``sign`` makes, or None."""
    if not isinstance(signature, dict) or set(signature) != SIGNATURE_FIELDS:
        return "its signature is missing or not of the expected form"
    if signature["algorithm"] != ALGORITHM:
        return f"its signature algorithm is not {ALGORITHM}"
    if not isinstance(signature["key_id"], str) or not KEY_ID.fullmatch(signature["key_id"]):
        return "its signature does not name a key id of the form ed25519:<16 hex digits>"
    if _signature_bytes(signature["value"]) is None:
        return "its signature value is not a base64 Ed25519 signature"
    return None


def _signature_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    # only the one encoding of these bytes: base64 leaves spare bits in its last character, which must be zero
    if len(raw) != SIGNATURE_BYTES or base64.b64encode(raw).decode("ascii") != value:
        return None
    return raw


def signature_valid(public_key: Ed25519PublicKey, body: Any, signature: Mapping[str, Any]) -> bool:
    """Whether ``signature`` (of the form ``sign`` makes) was made over ``body`` by this key's private key."""
    raw = _signature_bytes(signature.get("value"))
    if raw is None:
        return False
    try:
        public_key.verify(raw, canonical_json(body).encode("utf-8"))
    except InvalidSignature:
        return False
    return True


def document_text(document: Mapping[str, Any]) -> str:
    """The one form a signed document is written in."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def parse_document(data: bytes | str) -> dict[str, Any]:
    """A signed document from its file's bytes; DocumentError unless they are exactly as ``document_text`` wrote
    them (Windows line endings aside), so no byte can change without it being noticed."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError("it is not UTF-8 text") from None
    else:
        text = data
    try:
        document = strict_loads(text)
    except DuplicateKey as error:
        raise DocumentError(f"a member is given twice ({error.key!r})") from None
    except NonJsonConstant as error:
        raise DocumentError(f"it holds {error.name}, which is not JSON") from None
    except json.JSONDecodeError as error:
        raise DocumentError(f"it is not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict):
        raise DocumentError("it is not a JSON object")
    written = document_text(document)
    if text not in (written, written.replace("\n", "\r\n")):
        raise DocumentError("it is not byte for byte as it was written (a character was changed, added or removed)")
    return document


def write_document(document: Mapping[str, Any], path: Path | str, *, replace: bool = False) -> Path:
    """Write a signed document whole or not at all; an existing file is kept unless ``replace``."""
    path = Path(path)
    if not replace and path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), 0o644)  # certificates and revocation lists are public documents
            stream.write(document_text(document))
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if the file appeared meanwhile, rather than replacing it
            except FileExistsError:
                raise FileExistsError(f"{path} already exists") from None
            except OSError:  # a file system without hard links
                if path.exists():
                    raise FileExistsError(f"{path} already exists") from None
                os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return path


_PLAIN = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: the longest name, version or reason a document carries: they are labels, not prose
MAX_TEXT = 300


def text_problem(value: Any, what: str) -> str | None:
    """Why ``value`` is not a plain one-line label (no control characters, no surrounding spaces), or None.

    Every string a signed document carries is shown to people on terminals and pages, so none may carry
    line breaks or terminal control sequences."""
    if not isinstance(value, str) or not value.strip():
        return f"{what} is empty"
    if value != value.strip():
        return f"{what} starts or ends with spaces"
    if len(value) > MAX_TEXT:
        return f"{what} is longer than {MAX_TEXT} characters"
    if not _PLAIN.fullmatch(value):
        return f"{what} holds a line break or a control character"
    return None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(value: Any) -> dt.date | None:
    """``value`` as a date when it is exactly YYYY-MM-DD, else None."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def as_day(value: dt.date | None) -> dt.date | None:
    """The calendar day of ``value`` in UTC: a moment with a time zone is first moved to UTC (so it gives the
    same day wherever it was taken), a naive moment is taken as UTC, a date is itself."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo is not None else value).date()
    return value


def today() -> dt.date:
    """Today's date in UTC: certificates are dated the same wherever they are checked."""
    return dt.datetime.now(dt.UTC).date()
