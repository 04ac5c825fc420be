"""One conformance run from start to finish, as library calls: what the CLI, the demo and the tests do.

``request`` gathers what was asked (flags or a config file), ``plan`` picks the checks (profiles,
--only, --rerun-failed), ``open_target`` makes the live-API or adapter context, and ``execute`` prepares
the target (loads the corpus, notes what each check needs) and runs the checks. Everything a person can
get wrong raises ``UsageError`` with a message that says what to do; the CLI turns it into exit status 2.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugshare import __version__
from plugshare.conformance import registry, runner
from plugshare.conformance.context import RunContext
from plugshare.conformance.model import Check, Profile, RunReport
from plugshare.conformance.profiles import ProfileError, choose, types_under_test
from plugshare.identifiers import gss_problem
from plugshare.models.version import STANDARD_VERSION
from plugshare.plugins import PluginError, PluginHost, make_host

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
CONFIG_KEYS = ("target", "councils", "profiles", "timeout", "bulk_timeout", "retries")


class UsageError(Exception):
    """The run cannot start as asked: unknown profile or check, bad target details, unreachable target."""


class NothingToRerun(UsageError):
    """--rerun-failed of a report in which nothing failed, erred or was skipped: its exit status stands."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Request:
    """What was asked for, from flags or a config file; tokens are kept here and nowhere else."""

    kind: str  # "api" or "adapter"
    profile_ids: list[str]
    target_url: str | None = None
    councils: list[tuple[str, str]] = field(default_factory=list)  # (GSS code, token), primary first
    adapter_key: str | None = None
    adapter_options: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    bulk_timeout: float | None = None  # imports and exports; None: the targets' default
    retries: int = DEFAULT_RETRIES
    only: list[str] = field(default_factory=list)
    previous: dict[str, Any] | None = None  # the report given to --rerun-failed
    previous_path: Path | None = None


@dataclass(frozen=True)
class Plan:
    kind: str
    profiles: list[Profile]
    checks: list[Check]
    #: the ids asked for with --only or --rerun-failed; empty for a complete run
    selection: list[str]


def request(*, target_url: str | None = None, tokens: Iterable[str] = (), council_codes: Iterable[str] = (),
            config_path: Path | None = None, adapter_key: str | None = None,
            adapter_options: Mapping[str, str] | None = None, profile_ids: Iterable[str] = (),
            only: Iterable[str] = (), rerun_path: Path | None = None, out_dir: Path | None = None,
            timeout: float | None = None, retries: int | None = None,
            bulk_timeout: float | None = None) -> Request:
    """Check and gather the run's target and settings; a config file fills what flags leave out."""
    from plugshare.conformance.report import withhold

    tokens, council_codes = tuple(tokens), tuple(council_codes)
    given = [name for name, value in (("--target", target_url), ("--config", config_path),
                                      ("--adapter", adapter_key)) if value]
    if len(given) != 1:
        raise UsageError("give exactly one of --target URL (with --council and --token), --config FILE or "
                         "--adapter KEY" + (f"; got {' and '.join(given)}" if given else ""))
    if adapter_key is None and adapter_options:
        raise UsageError("--adapter-option goes with --adapter")
    if target_url is None and (tokens or council_codes):
        raise UsageError("--token and --council go with --target (a config file names its councils and tokens)")
    config: dict[str, Any] = read_config(config_path) if config_path is not None else {}
    kind = "adapter" if adapter_key else "api"
    councils = config.get("councils") or (pair_tokens(council_codes, tokens) if kind == "api" else [])
    withhold(token for _, token in councils)  # whatever their form, the tokens never reach a report or the screen
    previous = read_previous_report(rerun_path, kind, out_dir) if rerun_path is not None else None
    if out_dir is not None:
        check_out_dir(out_dir)
    return Request(
        kind=kind,
        profile_ids=list(profile_ids) or list(config.get("profiles", ())) or list(previous["profiles"] if previous
                                                                                 else ()),
        target_url=config.get("target", target_url), councils=councils, adapter_key=adapter_key,
        adapter_options=dict(adapter_options or {}),
        timeout=timeout if timeout is not None else config.get("timeout", DEFAULT_TIMEOUT),
        bulk_timeout=bulk_timeout if bulk_timeout is not None else config.get("bulk_timeout"),
        retries=retries if retries is not None else config.get("retries", DEFAULT_RETRIES),
        only=list(only), previous=previous, previous_path=rerun_path)


def plan(asked: Request, host: PluginHost | None = None) -> Plan:
    """The checks the run will make: those of the chosen profiles for this kind of target, maybe narrowed."""
    host = host or make_host()
    try:
        every_check = registry.checks(host)
        chosen = choose(asked.profile_ids, asked.kind)
    except (registry.RegistryError, ProfileError, PluginError) as exc:
        raise UsageError(str(exc)) from None
    if asked.kind == "adapter":
        check_declared_profiles(host, str(asked.adapter_key), [p.id for p in chosen])
    available = registry.applicable(every_check, [p.id for p in chosen], asked.kind)
    selection = list(asked.only)
    if asked.previous is not None:
        from plugshare.conformance.report import headline

        rerun = runner.rerun_selection(asked.previous)
        if not rerun:
            raise NothingToRerun(f"nothing to rerun: no check failed, erred or was skipped in {asked.previous_path}; "
                                 f"its verdict: {headline(asked.previous)}", asked.previous.get("exit_code", 1))
        selection = [i for i in rerun if i in asked.only] if asked.only else rerun
        if not selection:
            raise UsageError(f"none of --only {', '.join(asked.only)} failed, erred or was skipped in "
                             f"{asked.previous_path}")
    try:
        checks = runner.select(available, selection, known=every_check)
    except runner.SelectionError as exc:
        where = f"--rerun-failed {asked.previous_path}: " if asked.previous is not None else "--only: "
        raise UsageError(where + str(exc)) from None
    if not checks:
        raise UsageError(f"the profiles {', '.join(p.id for p in chosen)} have no checks for an {asked.kind} target")
    return Plan(asked.kind, chosen, checks, selection)


def open_target(asked: Request, the_plan: Plan, host: PluginHost | None = None) -> RunContext:
    """The live-API or adapter context the checks run against."""
    types = types_under_test(the_plan.profiles)
    if asked.kind == "adapter":
        from plugshare.adapters.contract import AdapterError
        from plugshare.conformance.adapter_target import open_adapter_context
        from plugshare.conformance.report import withhold

        host = host or make_host()
        try:
            secret = {option.name for option in host.adapter(str(asked.adapter_key)).options if option.secret}
            withhold(value for name, value in asked.adapter_options.items() if name in secret)  # a client secret
            return open_adapter_context(str(asked.adapter_key), asked.adapter_options, profiles=the_plan.profiles,
                                        types=types, host=host)
        except (AdapterError, PluginError, ValueError) as exc:
            raise UsageError(str(exc)) from None
    from plugshare.conformance.targets import open_api_context

    try:
        return open_api_context(str(asked.target_url), asked.councils, timeout=asked.timeout, retries=asked.retries,
                                bulk_timeout=asked.bulk_timeout, profiles=the_plan.profiles, types=types)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def execute(context: RunContext, the_plan: Plan, progress: Any = None) -> RunReport:
    """Prepare the target (load the corpus, note what each check needs), then run the plan's checks."""
    from plugshare.conformance.prepare import TargetUnreachable, prepare
    from plugshare.conformance.report import mask_text

    with context:
        try:
            context.readiness = prepare(context, the_plan.checks)
        except TargetUnreachable as exc:
            raise UsageError(str(exc)) from None
        except Exception as exc:  # the run cannot start: say why in one line, never with a traceback
            detail = " ".join(str(exc).split())
            raise UsageError(mask_text(f"the target could not be prepared for the checks: {type(exc).__name__}"
                                       + (f": {detail}" if detail else ""))) from None
        return runner.run(context, the_plan.checks, only=the_plan.selection, progress=progress)


def run_adapter(key: str, profile_ids: Iterable[str] | None = None, options: Mapping[str, str] | None = None,
                host: PluginHost | None = None) -> tuple[RunReport, RunContext]:
    """An adapter through the suite for the given profiles (default: those it declares); report and context."""
    from plugshare.conformance.adapter_target import derived_profiles

    host = host or make_host()
    if profile_ids is None:
        try:
            profile_ids = derived_profiles(host.adapter(key))
        except PluginError as exc:
            raise UsageError(str(exc)) from None
    asked = request(adapter_key=key, adapter_options=options, profile_ids=profile_ids)
    the_plan = plan(asked, host)
    context = open_target(asked, the_plan, host)
    return execute(context, the_plan), context


def run_api(base_url: str, councils: list[tuple[str, str]], profile_ids: Iterable[str], *,
            timeout: float | None = None, retries: int | None = None, host: PluginHost | None = None) -> RunReport:
    """A live API through the suite; ``councils`` are (GSS code, token) with the primary first."""
    asked = request(target_url=base_url, council_codes=[c for c, _ in councils], tokens=[t for _, t in councils],
                    profile_ids=profile_ids, timeout=timeout, retries=retries)
    the_plan = plan(asked, host)
    return execute(open_target(asked, the_plan, host), the_plan)


# --- checking what was asked ----------------------------------------------------------------------------------


def pair_tokens(codes: tuple[str, ...], tokens: tuple[str, ...]) -> list[tuple[str, str]]:
    """--council and --token given on the command line, paired in order (one token may serve every council)."""
    if not codes:
        raise UsageError("--target needs at least one --council CODE (the councils under test, primary first)")
    if not tokens:
        raise UsageError("--target needs --token: once for every council, or once per --council")
    if len(tokens) not in (1, len(codes)):
        raise UsageError(f"{len(tokens)} tokens for {len(codes)} councils: give --token once for every council, "
                         "or once per --council in the same order")
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        raise UsageError(f"--council {', '.join(twice)} is given twice; name each council once")
    for code in codes:
        problem = gss_problem(code)
        if problem:
            raise UsageError(f"--council: {problem}")
    return list(zip(codes, tokens * len(codes) if len(tokens) == 1 else tokens, strict=True))


def read_config(path: Path) -> dict[str, Any]:
    """The YAML config: target, councils [{code, token | token_env}], profiles, timeout, retries."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise UsageError(f"{path}: the config cannot be read ({reason})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the config must be a mapping with target, councils and profiles")
    unknown = sorted(set(map(str, data)) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown settings {', '.join(unknown)} (known: {', '.join(CONFIG_KEYS)})")
    if not isinstance(data.get("target"), str) or not data["target"].startswith(("http://", "https://")):
        raise UsageError(f"{path}: target must be the API's URL (http:// or https://)")
    councils = data.get("councils")
    if not isinstance(councils, list) or not councils:
        raise UsageError(f"{path}: councils must list at least one {{code, token | token_env}}")
    pairs = [_config_council(path, number, entry) for number, entry in enumerate(councils, start=1)]
    profiles = data.get("profiles", [])
    if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
        raise UsageError(f"{path}: profiles must be a list of profile ids")
    for name in ("timeout", "bulk_timeout", "retries"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0
                                  or (name == "retries" and not isinstance(value, int))):
            raise UsageError(f"{path}: {name} must be a {'whole ' if name == 'retries' else ''}number of at least 0")
    return {**data, "councils": pairs, "profiles": profiles}


def _config_council(path: Path, number: int, entry: Any) -> tuple[str, str]:
    where = f"{path}: council {number}"
    if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
        raise UsageError(f"{where} needs a code (its GSS code)")
    problem = gss_problem(entry["code"])
    if problem:
        raise UsageError(f"{where}: {problem}")
    if set(entry) - {"code", "token", "token_env"} or ("token" in entry) == ("token_env" in entry):
        raise UsageError(f"{where} ({entry['code']}) needs either token or token_env (an environment variable)")
    token = entry.get("token")
    if "token_env" in entry:
        token = os.environ.get(str(entry["token_env"]))
        if not token:
            raise UsageError(f"{where} ({entry['code']}): the environment variable {entry['token_env']} is not set")
    if not isinstance(token, str) or not token:
        raise UsageError(f"{where} ({entry['code']}): the token must be a non-empty string")
    return entry["code"], token


def read_previous_report(path: Path, kind: str, out_dir: Path | None) -> dict[str, Any]:
    """The report.json given to --rerun-failed: written by this suite version for this standard version, against
    the same kind of target, and checked against the published report schema."""
    from plugshare.conformance.report import REPORT_JSON, ReportError, read_report

    if out_dir is not None and (out_dir / REPORT_JSON).absolute() == path.absolute():
        raise UsageError(f"--rerun-failed {path}: --out {out_dir} would replace that report with a partial one; "
                         "write the rerun to another directory")
    try:
        previous = read_report(path, suite_version=__version__, standard_version=STANDARD_VERSION)
    except ReportError as exc:
        raise UsageError(f"--rerun-failed: {exc}") from None
    try:
        runner.rerun_selection(previous, kind)
    except runner.SelectionError as exc:
        raise UsageError(f"--rerun-failed {path}: {exc}") from None
    return previous


def check_out_dir(out_dir: Path) -> None:
    """Refuse, before the run, an --out the reports could not be written to."""
    existing = out_dir.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == out_dir.absolute() and not existing.is_dir():
        raise UsageError(f"--out {out_dir}: it is a file, not a directory")
    if not existing.is_dir():
        raise UsageError(f"--out {out_dir}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out_dir}: {existing} cannot be written to")


def check_declared_profiles(host: PluginHost, adapter_key: str, chosen: list[str]) -> None:
    """An adapter certifies only for the profiles it declares (or that are derived from what it carries)."""
    from plugshare.conformance.adapter_target import derived_profiles

    try:
        declared = derived_profiles(host.adapter(adapter_key))
    except PluginError as exc:
        raise UsageError(str(exc)) from None
    undeclared = [p for p in chosen if p not in declared]
    if undeclared:
        raise UsageError(f"the {adapter_key} adapter does not declare the profile"
                         f"{'s' if len(undeclared) > 1 else ''} {', '.join(undeclared)}; it declares "
                         f"{', '.join(declared) or 'no profile'}, so choose among those")
