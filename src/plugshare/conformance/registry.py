"""Collecting the checks: built-in and local ones on one road, through the plugin host.

Every plugin's ``plugshare_register_checks`` contributions are validated here, so that a report can trust
each check's id, level, requirements and profiles: ids are stable and never reused (a retired id stays in
:data:`RETIRED` for ever), two checks with one id are an error naming both plugins, and a check may only
cite requirements the standard has (a local check may also cite its own ``X-`` requirements).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from plugshare.conformance.model import CHECK_ID, Check
from plugshare.conformance.profiles import TARGET_KINDS, load_profiles
from plugshare.plugins import PluginHost, PluginInfo, make_host
from plugshare.standard.requirements import by_id

HOOK = "plugshare_register_checks"

#: check ids once used and withdrawn, with why: never registered again, never reused
RETIRED: dict[str, str] = {}

#: the prefix of a requirement id a local check defines for itself
LOCAL_REQUIREMENT_PREFIX = "X-"


class RegistryError(Exception):
    """A registered check cannot be trusted: malformed, retired, duplicated, or citing what does not exist."""


def checks(host: PluginHost | None = None, *, profile_ids: Iterable[str] | None = None) -> dict[str, Check]:
    """Every check the plugins register, validated, by id in id order; ``source`` names the plugin."""
    host = host or make_host()
    known_profiles = set(profile_ids) if profile_ids is not None else set(load_profiles())
    requirements = set(by_id())
    try:
        contributed = host.contributions(HOOK)
    except Exception as exc:  # a plugin's hook crashed: say so, rather than run a smaller suite
        raise RegistryError(f"a plugin failed while registering its checks: {type(exc).__name__}: {exc}") from exc
    found: dict[str, Check] = {}
    builtin_areas: set[str] = {area(i) for i in RETIRED}
    local: list[tuple[Check, PluginInfo]] = []
    for item, info in contributed:
        if isinstance(item, Check) and isinstance(item.id, str) and item.id in found:
            other = found[item.id].source
            raise RegistryError(f"check id {item.id} is registered by both plugin {other!r} and plugin "
                                f"{info.name!r} ({info.distribution}); each check needs an id of its own")
        check = validate(item, info, requirements, known_profiles)
        found[check.id] = check
        if info.builtin:
            builtin_areas.add(area(check.id))
        else:
            local.append((check, info))
    for check, info in local:  # a built-in area is kept free for the built-in checks to come
        if area(check.id) in builtin_areas:
            raise RegistryError(f"plugin {info.name!r}, check {check.id!r}: the area {area(check.id)} is the "
                                f"built-in checks'; a local check takes an area of its own (e.g. PSC-XKC-001), so "
                                "that a new built-in check never collides with it")
    return dict(sorted(found.items()))


def area(check_id: str) -> str:
    """The area of a check id: ``PAG`` of ``PSC-PAG-001``."""
    return check_id.split("-")[1]


def validate(item: object, info: PluginInfo, requirements: set[str], profiles: set[str]) -> Check:
    """One contribution checked and stamped with the plugin that registered it."""
    where = f"plugin {info.name!r}"
    if not isinstance(item, Check):
        raise RegistryError(f"{where} registered {item!r}, which is not a plugshare.conformance.model.Check")
    where = f"{where}, check {item.id!r}"
    if not isinstance(item.id, str) or not CHECK_ID.match(item.id):
        raise RegistryError(f"{where}: the id must look like PSC-AREA-NNN (e.g. PSC-XKC-001 for a local area)")
    if item.id in RETIRED:
        raise RegistryError(f"{where}: that id was retired ({RETIRED[item.id]}) and is never reused; "
                            "take a new number")
    if not isinstance(item.title, str) or not item.title.strip():
        raise RegistryError(f"{where}: the check has no title")
    if item.level not in ("MUST", "SHOULD"):
        raise RegistryError(f"{where}: level must be MUST or SHOULD, not {item.level!r}")
    if not callable(item.run):
        raise RegistryError(f"{where}: run is not callable")
    for name in ("requirements", "profiles", "needs"):
        value = getattr(item, name)
        if isinstance(value, str) or not isinstance(value, tuple | list | frozenset | set) \
                or not all(isinstance(v, str) and v for v in value):
            raise RegistryError(f"{where}: {name} must be a tuple of non-empty strings, not {value!r}"
                                + (f" (write ({value!r},) for one)" if isinstance(value, str) else ""))
    if not item.requirements:
        raise RegistryError(f"{where}: the check verifies no requirement; name at least one")
    unknown = [r for r in item.requirements if r not in requirements
               and not (not info.builtin and isinstance(r, str) and r.startswith(LOCAL_REQUIREMENT_PREFIX))]
    if unknown:
        local = "" if info.builtin else f" (a local requirement's id starts with {LOCAL_REQUIREMENT_PREFIX!r})"
        raise RegistryError(f"{where}: the standard has no requirement {', '.join(map(str, unknown))}{local}")
    if not item.profiles:
        raise RegistryError(f"{where}: the check belongs to no profile")
    unknown = [p for p in item.profiles if p not in profiles]
    if unknown:
        raise RegistryError(f"{where}: no profile {', '.join(map(str, unknown))}; profiles: "
                            f"{', '.join(sorted(profiles))}")
    if isinstance(item.targets, str):
        raise RegistryError(f"{where}: targets must be a set of target kinds, not {item.targets!r} "
                            f"(write frozenset({{{item.targets!r}}}) for one)")
    targets = set(item.targets)
    if not targets or not targets <= set(TARGET_KINDS):
        raise RegistryError(f"{where}: targets must be among {', '.join(TARGET_KINDS)}, not {sorted(targets)}")
    return dataclasses.replace(item, targets=frozenset(targets), requirements=_ordered(item.requirements),
                               profiles=_ordered(item.profiles), needs=_ordered(item.needs), source=info.name)


def _ordered(values: object) -> tuple[str, ...]:
    """As given, or sorted when given as a set (so that reports do not change from run to run)."""
    return tuple(values) if isinstance(values, tuple | list) else tuple(sorted(values))  # type: ignore[arg-type]


def applicable(all_checks: dict[str, Check], profile_ids: Iterable[str], kind: str) -> list[Check]:
    """The checks a run lists: those of a chosen profile that support the target's kind, in id order."""
    chosen = set(profile_ids)
    return [c for c in all_checks.values() if kind in c.targets and chosen & set(c.profiles)]
