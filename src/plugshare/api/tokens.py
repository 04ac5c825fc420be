"""Bearer tokens: made once, shown once, stored only as a hash, bound to a set of councils.

A token reads ``psk_<token id>_<secret>``: the id (12 URL-safe characters) finds the
row, and the SHA-256 of the secret (43 URL-safe characters) is compared in constant
time. The secret itself is never stored or logged, so a copy of the database
cannot be used to call the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from plugshare.api.store import Store, TokenRow, format_time, parse_time
from plugshare.models.types import CouncilCode

PREFIX = "psk_"
ID_LENGTH = 12
SECRET_LENGTH = 43
TOKEN_LENGTH = len(PREFIX) + ID_LENGTH + 1 + SECRET_LENGTH
_COUNCIL_CODE = TypeAdapter(CouncilCode)
#: Compared against when the token id is unknown: no secret hashes to it (it is not a SHA-256 hex digest).
_UNKNOWN_ID_DIGEST = "-" * 64


@dataclass(frozen=True)
class Credential:
    """Who is calling: the token's id and the councils it may act for."""

    token_id: str
    councils: frozenset[str]
    label: str | None = None


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: everything but its secret (which is not kept)."""

    token_id: str
    councils: tuple[str, ...]
    label: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None

    def active(self, now: dt.datetime | None = None) -> bool:
        return self.revoked_at is None and not _expired(self.expires_at, now)


def _expired(expires_at: str | None, now: dt.datetime | None = None) -> bool:
    return expires_at is not None and parse_time(expires_at) <= (now or dt.datetime.now(dt.UTC))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _councils(councils: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(councils, str):
        councils = [councils]
    bound = tuple(sorted(set(councils)))
    if not bound:
        raise ValueError("a token is bound to at least one council")
    for council in bound:
        try:
            _COUNCIL_CODE.validate_python(council)
        except ValidationError:
            raise ValueError(f"{council!r} is not a council's ONS GSS code (such as E07000991)") from None
    return bound


def _expiry(expires_at: dt.datetime | str | None) -> str | None:
    if expires_at is None:
        return None
    if isinstance(expires_at, str):
        try:
            expires_at = dt.datetime.fromisoformat(expires_at.upper())
        except ValueError:
            raise ValueError(f"{expires_at!r} is not an RFC 3339 date-time") from None
    if expires_at.tzinfo is None:
        raise ValueError("give the expiry with a time zone (for example 2027-03-31T23:59:59Z)")
    return format_time(expires_at)


def split_token(token: str) -> tuple[str, str] | None:
    """(token id, secret) of a well-formed token, else None."""
    if len(token) != TOKEN_LENGTH or not token.startswith(PREFIX) or token[len(PREFIX) + ID_LENGTH] != "_":
        return None
    token_id, secret = token[len(PREFIX):len(PREFIX) + ID_LENGTH], token[len(PREFIX) + ID_LENGTH + 1:]
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in token_id + secret):
        return None
    return token_id, secret


def create_token(store: Store, councils: Iterable[str] | str, label: str | None = None,
                 expires_at: dt.datetime | str | None = None) -> str:
    """Make a token bound to ``councils``; the returned text is the only copy of its secret."""
    bound = _councils(councils)
    expiry = _expiry(expires_at)
    token_id, secret = secrets.token_urlsafe(9), secrets.token_urlsafe(32)
    store.insert_token(TokenRow(token_id, _hash(secret), bound, label, format_time(dt.datetime.now(dt.UTC)),
                                expiry, None))
    return f"{PREFIX}{token_id}_{secret}"


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token, oldest first, without secrets."""
    return [TokenInfo(row.token_id, row.councils, row.label, row.created_at, row.expires_at, row.revoked_at)
            for row in store.token_rows()]


def revoke_token(store: Store, token: str) -> bool:
    """Revoke by token id (or by the whole token); False when there is no such active token."""
    parts = split_token(token)
    token_id = parts[0] if parts else token
    return store.set_token_revoked(token_id, format_time(dt.datetime.now(dt.UTC)))


def authenticate(store: Store, bearer: str | None) -> Credential | None:
    """The credential a bearer token stands for; None when malformed, unknown, revoked or expired."""
    parts = split_token(bearer or "")
    if parts is None:
        return None
    token_id, secret = parts
    row = store.token_row(token_id)
    # Hash and compare even for an unknown id, so the time taken does not tell which ids exist.
    expected = row.secret_sha256 if row is not None else _UNKNOWN_ID_DIGEST
    if not hmac.compare_digest(expected, _hash(secret)) or row is None:
        return None
    if row.revoked_at is not None or _expired(row.expires_at):
        return None
    return Credential(row.token_id, frozenset(row.councils), row.label)
