"""What a check receives: the target under test, what was loaded into it, and the run's shared state.

A check is a function of one context. :class:`RunContext` holds what every check may use whatever the
target; :class:`ApiContext` and :class:`AdapterContext` add what a live API or an adapter offers. The
runner only needs :class:`RunContext`; the concrete contexts are built by ``targets.open_api_context``
(API) and ``adapter_target.open_adapter_context`` (adapter), which fill the attributes and implement the
methods documented below. Checks never build a context: tests pass fakes that subclass these classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from plugshare.conformance.model import Exchange, Profile, RunSettings

if TYPE_CHECKING:
    import httpx

    from plugshare.client import PlugshareClient
    from plugshare.validation.validator import MessageValidator


class Corpus(Protocol):
    """The synthetic data a run loads and compares against (``corpus.load()`` builds it)."""

    councils: tuple[str, ...] | list[str]

    def messages(self, council: str | None = None, types: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """The corpus messages, optionally of one council and of some types only, in corpus order."""
        ...

    def invalid(self) -> list[tuple[dict[str, Any], str]]:
        """Each invalid message with the requirement it breaks."""
        ...


@dataclass(kw_only=True)
class RunContext:
    """What every check may use, whatever the target.

    Filled by the target code before any check runs:

    - ``kind``: ``"api"`` or ``"adapter"``
    - ``profiles``: the chosen profiles
    - ``types``: the message types under test (see :func:`plugshare.conformance.profiles.types_under_test`)
    - ``corpus``: the synthetic corpus
    - ``settings``: timeouts, retries, page size and the client's retry log, reported beside the results
    - ``declaration``: the capability declaration (API) or the adapter's description; ``None`` if none
    - ``declared_profiles``: the profiles the target claims (its declaration, or derived for an adapter)
    - ``validator``: the message validator (published schemas and rules)
    - ``readiness``: what each check needs and whether it is met (``prepare.prepare`` fills it)

    ``cache`` is for checks to share work (one export, one round trip): key it by the check area.
    """

    kind: str
    profiles: list[Profile] = field(default_factory=list)
    types: tuple[str, ...] = ()
    corpus: Corpus | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    declaration: dict[str, Any] | None = None
    declared_profiles: list[str] = field(default_factory=list)
    validator: MessageValidator | None = None
    readiness: list[dict[str, Any]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def profile_ids(self) -> list[str]:
        return [p.id for p in self.profiles]

    def describe_target(self) -> dict[str, Any]:
        """The report's ``target``: kind and what identifies the target; never a token or a secret option."""
        return {"kind": self.kind}

    def last_exchange(self) -> Exchange | None:
        """The latest recorded HTTP exchange, as masked evidence for a finding; ``None`` for an adapter."""
        return None

    def close(self) -> None:
        """Release connections and temporary files; the CLI calls it once the run is over."""

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(kw_only=True)
class ApiContext(RunContext):
    """A live server implementing the standard's REST API. ``targets.open_api_context`` builds it.

    Attributes filled by ``open_api_context``:

    - ``base_url``: the API root the run talks to
    - ``councils``: the council codes under test, each with its own token; ``councils[0]`` is the primary
    - ``exchanges``: every request and response of the run, in order (the item type is defined by
      ``targets.py``; PSC-SCH-001 checks them all)

    and by ``prepare.prepare``, before any check runs:

    - ``capabilities``: the capability declaration as returned (also ``declaration``)
    - ``read_only``: the target refuses writes (a gateway): checks that need ``writable`` are skipped
    - ``loaded``: ``{council: {type: {id: message}}}``, what the target ACCEPTED during preparation (or, for a
      read-only target, what it holds)
    - ``import_acks``: ``{council: [acknowledgement, ...]}`` of the preparation's bulk import

    Methods the target code implements: :meth:`client`, :meth:`raw`, :meth:`last_exchange`.
    """

    kind: str = "api"
    base_url: str = ""
    councils: list[str] = field(default_factory=list)
    capabilities: dict[str, Any] = field(default_factory=dict)
    loaded: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    import_acks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    read_only: bool = False
    exchanges: list[Any] = field(default_factory=list)

    @property
    def council(self) -> str:
        """The primary council."""
        return self.councils[0]

    def client(self, council: str | None = None) -> PlugshareClient:
        """A client bound to ``council`` (default the primary) with its token; every exchange is recorded."""
        raise NotImplementedError

    def raw(self, method: str, path: str, *, council: str | None = None, token: str | None = "default",
            headers: dict[str, str] | None = None, content: bytes | str | None = None,
            params: dict[str, Any] | None = None) -> httpx.Response:
        """One request as given, recorded. ``token="default"`` sends the council's token, ``None`` sends no
        Authorization header, any other string is sent as the bearer token (a wrong one, for example)."""
        raise NotImplementedError

    def describe_target(self) -> dict[str, Any]:
        return {"kind": "api", "url": self.base_url, "councils": list(self.councils)}


@dataclass
class RoundTrip:
    """What an adapter did with the corpus: wrote it, then read its own output back.

    ``written`` are the messages given to the writer that it accepted; ``lost`` maps a message id to the
    pointers the writer reported it could not carry; ``read_back`` the messages read from the output;
    ``rejections`` the writer's or reader's refusals, each ``{"stage", "id", "reason", "requirement"}``.
    """

    written: list[dict[str, Any]] = field(default_factory=list)
    lost: dict[str, list[str]] = field(default_factory=dict)
    read_back: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)


@dataclass(kw_only=True)
class AdapterContext(RunContext):
    """An adapter from the plugin host. ``adapter_target.open_adapter_context`` builds it.

    Attributes the target code fills: ``key``, ``adapter_cls`` (the Adapter subclass), ``options`` (as given
    on the command line). Methods it implements: :meth:`round_trip` (cached) and :meth:`read_sample`.
    """

    kind: str = "adapter"
    key: str = ""
    adapter_cls: type | None = None
    options: dict[str, str] = field(default_factory=dict)

    def round_trip(self) -> RoundTrip:
        """Write the corpus messages of the types under test, read the output back; computed once."""
        raise NotImplementedError

    def read_sample(self, name: str) -> list[Any]:
        """The outcomes (Converted / Rejected) of reading the adapter's own sample ``name``."""
        raise NotImplementedError

    def describe_target(self) -> dict[str, Any]:
        """The adapter's key and the names of the options given: values may be secrets or paths to personal
        data, so they stay out of the report."""
        return {"kind": "adapter", "adapter": self.key, "options": sorted(self.options)}
