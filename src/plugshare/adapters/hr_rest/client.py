"""The HTTP side of the hr-rest adapter: OAuth2 client credentials, retries, OData paging.

Every request goes through the injected ``httpx.Client`` with a timeout. Errors
become :class:`AdapterError` messages that name the URL and the HTTP status
and quote a short excerpt of the answer, with the client secret and the access
token blanked out wherever they might appear.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from plugshare.adapters.contract import AdapterError

#: statuses retried after waiting (Retry-After when given, else 1, 2, 4 s)
RETRY_STATUSES = (429, 503)
EXCERPT = 200
HIDDEN = "[hidden]"


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default port made explicit): two URLs with one origin may share a token."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def check_url(text: str, what: str) -> httpx.URL:
    """An absolute http(s) URL; plain http only for this machine (a bearer token must not travel in clear)."""
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError):
        raise AdapterError(f"{what} {text!r} is not a URL; give it as https://host/path") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise AdapterError(f"{what} {text!r} is not an absolute http(s) URL; give it as https://host/path")
    if url.scheme == "http" and url.host not in ("localhost", "127.0.0.1", "::1"):
        raise AdapterError(f"{what} {text!r} uses plain http; use https so that credentials are not sent in clear")
    return url


class ODataClient:
    """Reads OData entity sets page by page with an OAuth2 client-credentials token."""

    def __init__(self, http: httpx.Client, *, base_url: str, token_url: str, client_id: str, client_secret: str,
                 scope: str | None = None, token_auth: str = "post", page_size: int = 100, timeout: float = 30.0,
                 max_retries: int = 3, max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.http = http
        self.base_url = check_url(base_url, "the API base URL")
        self.token_url = check_url(token_url, "option token_url")
        self.client_id, self._secret, self.scope, self.token_auth = client_id, client_secret, scope, token_auth
        self.page_size, self.timeout, self.max_retries, self.max_wait = page_size, timeout, max_retries, max_wait
        self.sleep, self.clock = sleep, clock
        self._token: str | None = None
        self._expires_at: float | None = None

    # --- paging ---------------------------------------------------------------

    def entity_url(self, entity_set: str) -> str:
        return str(self.base_url).rstrip("/") + "/" + entity_set

    def pages(self, entity_set: str) -> Iterator[list[Any]]:
        """Each page's items in turn; only one page is held at a time.

        ``@odata.nextLink`` is followed when given (it must stay on the base
        URL's origin), and once the API has given one, the page without one is
        the last (server-driven paging). An API that gives none is paged with
        ``$skip`` (the items read so far) until a page has fewer items than ``$top``.
        """
        url: httpx.URL = httpx.URL(self.entity_url(entity_set))
        params: dict[str, str] | None = {"$top": str(self.page_size)}
        skip, previous_first, server_driven = 0, None, False
        while True:
            page, answered = self._get_page(url, params)
            items = page["value"]
            yield items
            link = page.get("@odata.nextLink")
            if link is not None:
                next_url = self._next_link(link, answered)
                if next_url == answered:
                    raise AdapterError(f"{answered} gave itself as its @odata.nextLink; the API's paging is broken, "
                                       "so reading stopped rather than loop")
                url, params, server_driven = next_url, None, True
                continue
            if server_driven or len(items) < self.page_size:
                return
            if params is not None and "$skip" in params and items[:1] == previous_first:
                raise AdapterError(f"{answered} returned the same items as the page before; the API seems to "
                                   "ignore $skip and gives no @odata.nextLink, so it cannot be paged")
            previous_first = items[:1]
            skip += len(items)
            url, params = httpx.URL(self.entity_url(entity_set)), {"$top": str(self.page_size), "$skip": str(skip)}

    def _next_link(self, link: Any, answered: httpx.URL) -> httpx.URL:
        if not isinstance(link, str) or not link.strip():
            raise AdapterError(f"{answered} gave an @odata.nextLink that is not a URL: {self._excerpt(repr(link))}")
        next_url = answered.join(link.strip())
        if origin(next_url) != origin(self.base_url):
            raise AdapterError(f"{answered} gave an @odata.nextLink on another origin ({next_url.scheme}://"
                               f"{next_url.host}); it must stay on {self.base_url.scheme}://{self.base_url.host}, "
                               "so it was not followed and the access token not sent there")
        return next_url

    def _get_page(self, url: httpx.URL, params: dict[str, str] | None) -> tuple[dict[str, Any], httpx.URL]:
        response = self._api_get(url, params)
        where = response.request.url
        page = self._json(response, where)
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise AdapterError(f"{where} did not answer an OData collection ({{\"value\": [...]}}): "
                               f"{self._excerpt(response.text)}; check that the base URL is the service root")
        return page, where

    # --- requests -------------------------------------------------------------

    def _api_get(self, url: httpx.URL, params: dict[str, str] | None) -> httpx.Response:
        renewed = False
        while True:
            headers = {"Authorization": f"Bearer {self._access_token()}", "Accept": "application/json",
                       "OData-MaxVersion": "4.0"}
            response = self._send("GET", url, params=params, headers=headers)
            if response.status_code == 401 and not renewed:
                self._token, renewed = None, True  # the token may have been revoked or expired early: renew once
                continue
            if response.status_code == 401:
                raise AdapterError(f"{response.request.url} refused a freshly issued access token (401): "
                                   f"{self._excerpt(response.text)}; check that client {self.client_id!r} may "
                                   "read this API (its roles or scope)")
            if not response.is_success:
                raise self._status_error(response, "the API")
            return response

    def _send(self, method: str, url: httpx.URL, **kwargs: Any) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            try:
                response = self.http.request(method, url, timeout=self.timeout, **kwargs)
            except httpx.TimeoutException:
                raise AdapterError(f"{method} {url} timed out after {self.timeout:g} s; try again later or raise "
                                   "--option timeout") from None
            except httpx.HTTPError as exc:
                raise AdapterError(f"{method} {url} failed: {self._scrub(str(exc)) or type(exc).__name__}; check "
                                   "the URL and the network") from None
            if response.status_code not in RETRY_STATUSES or attempt == self.max_retries:
                return response
            wait = self._retry_after(response, default=float(2 ** attempt))
            if wait > self.max_wait:
                raise AdapterError(f"{method} {url} answered {response.status_code} and asked to wait {wait:g} s, "
                                   f"more than {self.max_wait:g} s; try again later")
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _retry_after(response: httpx.Response, default: float) -> float:
        value = response.headers.get("Retry-After", "").strip()
        if re.fullmatch(r"[0-9]+", value):
            return float(value)
        if value:
            try:
                moment = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return default
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())
        return default

    # --- the token ------------------------------------------------------------

    def _access_token(self) -> str:
        if self._token is None or (self._expires_at is not None and self.clock() >= self._expires_at):
            self._fetch_token()
        assert self._token is not None
        return self._token

    def _fetch_token(self) -> None:
        data = {"grant_type": "client_credentials"}
        auth = None
        if self.token_auth == "basic":
            auth = httpx.BasicAuth(self.client_id, self._secret)
        else:
            data.update(client_id=self.client_id, client_secret=self._secret)
        if self.scope:
            data["scope"] = self.scope
        started = self.clock()
        response = self._send("POST", self.token_url, data=data, auth=auth, headers={"Accept": "application/json"})
        if not response.is_success:
            raise self._status_error(response, "the token endpoint",
                                     advice=f"check client_id {self.client_id!r}, client_secret and scope")
        answer = self._json(response, self.token_url)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise AdapterError(f"the token endpoint {self.token_url} answered without an access_token; "
                               "check that token_url is the OAuth2 token endpoint")
        kind = answer.get("token_type", "Bearer")
        if not isinstance(kind, str) or kind.lower() != "bearer":
            raise AdapterError(f"the token endpoint {self.token_url} issued a {kind!r} token; this adapter "
                               "sends Bearer tokens only")
        lifetime = answer.get("expires_in")
        try:
            seconds = float(lifetime) if lifetime is not None else None
        except (TypeError, ValueError):
            seconds = None
        self._token = token
        # renew a little before the end (a tenth of the lifetime, at most 60 s) so a request never carries a
        # token that expires in flight; with no expires_in the token is used until the API answers 401
        self._expires_at = None if seconds is None else started + seconds - min(60.0, seconds / 10)

    # --- messages -------------------------------------------------------------

    def _json(self, response: httpx.Response, where: httpx.URL) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("Content-Type", "no content type")
            raise AdapterError(f"{where} answered {response.status_code} with a body that is not JSON ({kind}): "
                               f"{self._excerpt(response.text)}") from None

    def _status_error(self, response: httpx.Response, what: str, advice: str = "") -> AdapterError:
        status = response.status_code
        if status in RETRY_STATUSES:
            advice = advice or f"it was still busy after {self.max_retries} retries; try again later"
        elif status in (301, 302, 303, 307, 308):
            advice = advice or f"it redirects to {response.headers.get('Location', '?')}; give that URL instead"
        elif status == 403:
            advice = advice or f"client {self.client_id!r} is not allowed to read it; ask the vendor for the role"
        elif status == 404:
            advice = advice or "check the base URL and the entity set names (--option entity_sets)"
        detail = self._excerpt(_odata_error(response) or response.text)
        return AdapterError(f"{what} at {response.request.url} answered {status} {response.reason_phrase}: "
                            f"{detail}" + (f"; {advice}" if advice else ""))

    def _excerpt(self, text: str) -> str:
        text = self._scrub(" ".join(text.split()))
        return (text[:EXCERPT] + "...") if len(text) > EXCERPT else (text or "(empty body)")

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._token):
            if secret:
                text = text.replace(secret, HIDDEN)
        return text


def _odata_error(response: httpx.Response) -> str | None:
    """The message of an OData or OAuth2 error body: ``{"error": {"code", "message"}}`` or ``{"error", ...}``."""
    try:
        body = json.loads(response.text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return f"{error.get('code', 'error')}: {error['message']}"
    if isinstance(error, str):
        return error + (f": {body['error_description']}" if isinstance(body.get("error_description"), str) else "")
    return None
