"""Profiles as data: what a supplier certifies for, read from conformance/profiles/<id>.json.

A profile names message types, the operations and features an API must declare for them, and the kinds of
target that can certify for it. Keeping them as data lets a certification body review and publish them
without reading code; a profile naming anything the standard does not have is refused when it is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from plugshare.conformance.model import Profile
from plugshare.models import MESSAGE_TYPES
from plugshare.standard.openapi import FEATURES, OPERATIONS
from plugshare.standard.paths import data_dir

TARGET_KINDS = ("api", "adapter")
_FIELDS = {"id", "title", "description", "message_types", "operations", "features", "targets"}


class ProfileError(Exception):
    """A profile file is wrong, or a profile asked for does not exist or does not suit the target."""


def conformance_dir() -> Path:
    """The conformance/ directory (profiles, corpus, untested requirements): ``$PLUGSHARE_CONFORMANCE_DIR``,
    the copy packed in the wheel (``plugshare/_conformance``), or the checkout's."""
    return data_dir("conformance", "PLUGSHARE_CONFORMANCE_DIR")


def profiles_dir() -> Path:
    return conformance_dir() / "profiles"


def parse_profile(data: Any, where: str) -> Profile:
    """One profile from its JSON, every value checked against what the standard has."""
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a JSON object")
    missing = sorted(_FIELDS - set(data))
    unknown = sorted(set(data) - _FIELDS)
    if missing or unknown:
        parts = ([f"lacks {', '.join(missing)}"] if missing else []) + (
            [f"has unknown fields {', '.join(unknown)}"] if unknown else [])
        raise ProfileError(f"{where}: the profile {' and '.join(parts)}")
    for name in ("id", "title", "description"):
        if not isinstance(data[name], str) or not data[name].strip():
            raise ProfileError(f"{where}: {name} must be a non-empty string")
    lists = {}
    for name, allowed in (("message_types", MESSAGE_TYPES), ("operations", OPERATIONS), ("features", FEATURES),
                          ("targets", TARGET_KINDS)):
        value = data[name]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(f"{where}: {name} must be a list of strings")
        wrong = [v for v in value if v not in allowed]
        if wrong:
            raise ProfileError(f"{where}: {name} names what the standard does not have: {', '.join(wrong)} "
                               f"(known: {', '.join(sorted(allowed))})")
        if len(set(value)) != len(value):
            raise ProfileError(f"{where}: {name} lists a value twice")
        lists[name] = tuple(value)
    if not lists["targets"]:
        raise ProfileError(f"{where}: targets must name at least one of {', '.join(TARGET_KINDS)}")
    return Profile(id=data["id"], title=data["title"], description=data["description"],
                   message_types=lists["message_types"], operations=lists["operations"],
                   features=lists["features"], targets=lists["targets"])


def load_profiles(directory: Path | None = None) -> dict[str, Profile]:
    """Every profile of ``directory`` (default conformance/profiles), by id, in file-name order."""
    directory = directory or profiles_dir()
    found: dict[str, Profile] = {}
    paths = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not paths:
        raise ProfileError(f"{directory}: no profiles found (conformance/profiles/<id>.json)")
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProfileError(f"{path}: not a readable JSON profile ({exc})") from None
        profile = parse_profile(data, str(path))
        if profile.id != path.stem:
            raise ProfileError(f"{path}: the profile's id {profile.id!r} differs from its file name")
        found[profile.id] = profile
    return found


def choose(ids: Iterable[str], kind: str, known: dict[str, Profile] | None = None) -> list[Profile]:
    """The profiles asked for, in the order given; an unknown one, or one the kind of target cannot certify
    for, is an error saying which exist."""
    known = load_profiles() if known is None else known
    chosen: list[Profile] = []
    for pid in dict.fromkeys(ids):
        if pid not in known:
            raise ProfileError(f"no profile {pid!r}; profiles: {', '.join(known)}")
        profile = known[pid]
        if kind not in profile.targets:
            suited = [p.id for p in known.values() if kind in p.targets]
            raise ProfileError(f"profile {pid!r} is for {' and '.join(profile.targets)} targets, not an {kind} "
                               f"target; profiles for an {kind} target: {', '.join(suited)}")
        chosen.append(profile)
    if not chosen:
        raise ProfileError(f"choose at least one profile; profiles: {', '.join(known)}")
    return chosen


def types_under_test(profiles: Iterable[Profile], declared: Iterable[str] = (), *,
                     restrict: bool = False) -> tuple[str, ...]:
    """The message types a run tests: the union of the profiles' types, or, when they name none, the types
    the target declares. ``restrict`` (adapters) keeps only the declared ones, as an adapter is tested on
    the types it carries."""
    named = {t for p in profiles for t in p.message_types}
    declared_set = set(declared)
    if not named:
        return tuple(sorted(declared_set))
    return tuple(sorted(named & declared_set if restrict else named))
