"""``plugshare new-adapter NAME``: write a new adapter package that works and is tested from the start.

The package is rendered from the templates in ``scaffold_templates/`` (read
with importlib.resources, so they ship in the wheel): a pyproject with the
``plugshare`` entry point, the adapter for a small CSV of organisation units
with its plugin hook, a synthetic sample and the same sample with one bad
record, declared in the ``samples/samples.json`` manifest the conformance
suite reads, a README, and tests written with plugshare's pytest plugin that
pass as generated, the suite's run for the adapter's profiles among them, so
that the package is certifiable from the start. Only the standard library is
used, so the command works however plugshare is installed.

Names: ``NAME`` becomes the adapter's key and the distribution's name
(``plugshare-NAME``) in lower case with hyphens; the import package and the
entry point name are its identifier form (``plugshare_NAME``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

#: keys the command line gives another meaning
RESERVED = frozenset({"canonical"})
MAX_LENGTH = 40
_KEY = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_PLACEHOLDER = re.compile(r"\{\{[a-z]+\}\}")

#: template -> where it goes in the package; ``{package}`` is the import package's name
FILES = (
    ("pyproject.toml.tmpl", "pyproject.toml"),
    ("README.md.tmpl", "README.md"),
    ("init.py.tmpl", "src/{package}/__init__.py"),
    ("plugin.py.tmpl", "src/{package}/plugin.py"),
    ("org-units.csv.tmpl", "src/{package}/samples/org-units.csv"),
    ("bad-unit-type.csv.tmpl", "src/{package}/samples/bad-unit-type.csv"),
    ("samples.json.tmpl", "src/{package}/samples/samples.json"),
    ("test_adapter.py.tmpl", "tests/test_adapter.py"),
)


@dataclass(frozen=True)
class Names:
    """Every name the package uses, derived from the one given."""

    key: str

    @property
    def module(self) -> str:
        return self.key.replace("-", "_")

    @property
    def package(self) -> str:
        return f"plugshare_{self.module}"

    @property
    def distribution(self) -> str:
        return f"plugshare-{self.key}"

    @property
    def adapter_class(self) -> str:
        return "".join(part.capitalize() for part in self.key.split("-")) + "Adapter"

    def substitutions(self) -> dict[str, str]:
        return {"{{key}}": self.key, "{{module}}": self.module, "{{package}}": self.package,
                "{{distribution}}": self.distribution, "{{class}}": self.adapter_class}


def normalise_name(name: str, taken: Iterable[str] = ()) -> str:
    """The adapter key for ``name``: lower case, ``_`` as ``-``, without a leading ``plugshare-``.

    Raises ValueError saying what is wrong and what would do: an empty name, spaces, characters
    other than letters, digits, hyphens and underscores, a name that does not start with a
    letter, one over 40 characters, a reserved one, or one in ``taken`` (the keys of the adapters
    plugshare has built in, which the command line passes: a package registering one of them
    would clash with it, and its own tests would fail).
    """
    if not name or not name.strip():
        raise ValueError("the adapter needs a name, such as 'acme-hr': plugshare new-adapter acme-hr")
    if any(character.isspace() for character in name):
        suggestion = "-".join(name.split()).lower()
        raise ValueError(f"{name!r} has spaces; an adapter's name is one word with hyphens, e.g. {suggestion!r}")
    key = name.lower().replace("_", "-")
    key = key.removeprefix("plugshare-") or key
    if not _KEY.fullmatch(key):
        raise ValueError(f"{name!r} cannot name an adapter: use letters, digits and single hyphens, starting "
                         "with a letter, e.g. 'acme-hr' or 'civica-icon'")
    if len(key) > MAX_LENGTH:
        raise ValueError(f"{name!r} is {len(key)} characters; keep an adapter's name to {MAX_LENGTH}")
    if key in RESERVED:
        raise ValueError(f"{key!r} is reserved (plugshare convert gives 'canonical' its own meaning); "
                         "choose another name")
    if key in set(taken):
        raise ValueError(f"{key!r} is the key of an adapter built into plugshare, and two adapters cannot share "
                         f"a key; choose another name, such as 'acme-{key}' with your supplier's name")
    return key


def new_adapter(name: str, directory: Path | str | None = None, *, taken: Iterable[str] = ()) -> Path:
    """Write the package for adapter ``name`` into ``directory`` (default ``./plugshare-<key>``); return it.

    When ``directory`` is the default the command line built from the name as typed (e.g.
    ``plugshare-Acme_HR``), it follows the normalised name instead (``plugshare-acme-hr``).
    ``taken`` holds adapter keys the name must not have (see :func:`normalise_name`); this
    module imports only the standard library, so the caller asks the plugin host for them.
    Raises ValueError for a bad or taken name or when the directory exists and is not empty;
    nothing is written then.
    """
    names = Names(normalise_name(name, taken))
    if directory is None or Path(directory).name == f"plugshare-{name}":
        directory = (Path(directory).parent if directory is not None else Path()) / names.distribution
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory} already exists and is not an empty directory; remove it or give "
                         "another --directory")
    rendered = [(directory / target.format(package=names.package), _render(template, names))
                for template, target in FILES]
    for path, text in rendered:
        path.parent.mkdir(parents=True, exist_ok=True)
        # CSV samples end their lines in CRLF, as RFC 4180 says and as the adapter writes them
        data = text.replace("\n", "\r\n") if path.suffix == ".csv" else text
        path.write_bytes(data.encode("utf-8"))
    return directory


def _render(template: str, names: Names) -> str:
    text = (resources.files("plugshare") / "scaffold_templates" / template).read_text(encoding="utf-8")
    for placeholder, value in names.substitutions().items():
        text = text.replace(placeholder, value)
    left = _PLACEHOLDER.search(text)
    if left:  # a template and this module disagree: a packaging mistake, not the user's
        raise RuntimeError(f"template {template} has the placeholder {left.group()}, which has no value")
    return text
