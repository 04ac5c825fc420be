"""ARCHITECTURE.md stays true: each layer imports only what the layer table allows."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "plugshare"

#: layer -> the layers it may import (besides itself). Mirrors ARCHITECTURE.md.
ALLOWED = {
    "identifiers": set(),
    "atomic": set(),
    "terminal": set(),
    "models": {"identifiers"},
    "paths": set(),
    "refdata": {"paths"},
    "calculations": set(),
    "rules": {"models", "refdata", "calculations", "identifiers"},
    "synthetic": {"models", "refdata", "calculations"},
    "standard": {"models", "rules", "calculations", "synthetic", "paths", "refdata", "identifiers"},
    "validation": {"paths", "models", "rules", "standard"},
    "hookspecs": set(),
    "adapters": {"identifiers", "models", "refdata", "calculations", "hookspecs"},
    "plugins": {"hookspecs", "adapters", "models"},
    "conversion": {"adapters", "validation"},
    "progress": {"conversion", "terminal"},
    "testing": {"adapters", "plugins", "conversion", "validation", "models"},
    "scaffold": set(),
    "samples": {"adapters", "plugins", "conversion"},
    "client": {"models"},
    "api": {"models", "validation", "standard", "paths", "adapters", "plugins", "conversion"},
    "certification": {"atomic", "models", "standard", "conformance", "paths", "identifiers"},
    "migration": {"atomic", "terminal", "client", "models", "conformance"},
    "conformance": {"atomic", "models", "validation", "standard", "paths", "client", "plugins", "adapters",
                    "conversion", "synthetic", "hookspecs", "identifiers", "progress", "samples"},
}


def layer_of(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts or parts in (["__init__"], ["__version__"]):
        return "package"
    if parts[:2] == ["standard", "paths"]:
        return "paths"
    head = parts[0]
    if head in ("cli", "demo", "__main__"):
        return "entry"
    return head


def plugshare_imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("plugshare"):
            if node.module == "plugshare":
                yield from (f"plugshare.{alias.name}" for alias in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("plugshare"))


def test_layers_import_only_what_architecture_allows():
    breaches = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "plugshare." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        layer = layer_of(module)
        if layer in ("entry", "package"):
            continue
        if layer not in ALLOWED:
            breaches.append(f"{module} belongs to no layer of ARCHITECTURE.md; add it to the table")
            continue
        for imported in plugshare_imports(path):
            target = layer_of(imported)
            if target not in (layer, "package") and target not in ALLOWED[layer]:
                breaches.append(f"{module} ({layer}) imports {imported} ({target})")
    assert not breaches, "\n".join(breaches)


def test_every_layer_in_the_table_exists():
    present = {layer_of("plugshare." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts))
               for p in PACKAGE.rglob("*.py")}
    assert set(ALLOWED) <= present
