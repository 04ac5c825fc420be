"""Shared fixtures and helpers for tests of the REST API (load with ``pytest_plugins = ["apikit"]``).

Every response a test client receives is checked against the published OpenAPI
document; a test fails at teardown if any response broke it. Data is synthetic:
the examples in spec/examples/valid and ``plugshare.synthetic``.

Test modules import helpers from here before pytest loads it as a plugin, so its
assertions are not rewritten (PYTEST_DONT_REWRITE); each carries its own message.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from plugshare.api import Store, create_token, make_app, open_store
from plugshare.models import api_path, message_type_of
from plugshare.models.canonical import canonical_json
from plugshare.standard.paths import spec_dir
from plugshare.synthetic import Sizes, generate
from plugshare.validation.responses import ResponseChecker

COUNCIL_A = "E07000991"
COUNCIL_B = "E07000992"
BASE_URL = "http://plugshare.test"
NDJSON = {"Content-Type": "application/x-ndjson"}
SMALL = Sizes(employees=3, dwellings=3, hereditaments=1)


# --- data -------------------------------------------------------------------------------------------

def example(name: str) -> dict[str, Any]:
    """A valid example message of spec/examples/valid (a fresh copy)."""
    return json.loads((spec_dir() / "examples" / "valid" / name).read_text(encoding="utf-8"))


def invalid_example(name: str) -> dict[str, Any]:
    return json.loads((spec_dir() / "examples" / "invalid" / name).read_text(encoding="utf-8"))


def synthetic(council: str | None = None, seed: int = 2026, sizes: Sizes = SMALL) -> list[dict[str, Any]]:
    """Synthetic messages of the shared service, of one council or all."""
    return [m for m in generate(seed, sizes=sizes) if council is None or m["council"] == council]


def type_of(message: dict[str, Any]) -> str:
    found = message_type_of(message["type"])
    assert found is not None
    return found


def record_id(message: dict[str, Any]) -> str:
    return message["subject"] if message["action"] == "delete" else message["data"]["id"]


def item_path(message: dict[str, Any], council: str | None = None) -> str:
    return f"/v1/councils/{council or message['council']}/{api_path(type_of(message))}/{record_id(message)}"


def collection_path(message_type: str, council: str = COUNCIL_A) -> str:
    return f"/v1/councils/{council}/{api_path(message_type)}"


def revised(message: dict[str, Any]) -> dict[str, Any]:
    """The same record in a new, still valid message (another envelope id): an update when stored."""
    changed = copy.deepcopy(message)
    changed["id"] = str(uuid.uuid4())
    return changed


def ndjson(messages: Iterable[dict[str, Any] | str]) -> bytes:
    return "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages).encode("utf-8")


def read_ndjson(body: str | bytes) -> list[dict[str, Any]]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def canonical_set(messages: Iterable[dict[str, Any]]) -> set[str]:
    return {canonical_json(m) for m in messages}


# --- store and tokens -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Tokens:
    a: str
    b: str
    ab: str

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def memory_store() -> Iterable[Store]:
    store = open_store(":memory:")
    yield store
    store.close()


@pytest.fixture
def file_store(tmp_path: Path) -> Iterable[Store]:
    store = open_store(tmp_path / "plugshare.db")
    yield store
    store.close()


@pytest.fixture(params=["memory", "file"])
def any_store(request: pytest.FixtureRequest) -> Store:
    """The store in each of its two forms, so a test runs against both."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def store(memory_store: Store) -> Store:
    return memory_store


@pytest.fixture
def tokens(store: Store) -> Tokens:
    """Tokens for council A, council B, and both."""
    return Tokens(create_token(store, [COUNCIL_A], label="council A"),
                  create_token(store, [COUNCIL_B], label="council B"),
                  create_token(store, [COUNCIL_A, COUNCIL_B], label="shared service"))


# --- clients --------------------------------------------------------------------------------------

class Conformance:
    """Collects every way a response breaks the published OpenAPI document."""

    def __init__(self) -> None:
        self.checker = ResponseChecker.published()
        self.violations: list[str] = []
        self.responses = 0

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.responses += 1
        self.violations.extend(self.checker.check_httpx(response))


@pytest.fixture
async def make_client(anyio_backend: str) -> AsyncIterator[Callable[..., Any]]:
    """``await make_client(app, token=None)``: an in-process client whose every response is checked."""
    conformance = Conformance()
    made: list[httpx.AsyncClient] = []
    async with AsyncExitStack() as stack:
        async def make(app: Any, token: str | None = None) -> httpx.AsyncClient:
            headers = Tokens.bearer(token) if token else {}
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers,
                                       event_hooks={"response": [conformance]})
            made.append(client)
            return await stack.enter_async_context(client)

        make.conformance = conformance  # type: ignore[attr-defined]
        yield make
    assert not made or conformance.responses, "no response was checked: the conformance hook did not run"
    assert not conformance.violations, "responses break the published OpenAPI document:\n" + "\n".join(
        conformance.violations)


@pytest.fixture
def app(store: Store) -> Any:
    return make_app(store)


@pytest.fixture
async def client(make_client: Callable[..., Any], app: Any) -> httpx.AsyncClient:
    """A client of the reference server without credentials; pass ``headers=Tokens.bearer(...)``."""
    return await make_client(app)
