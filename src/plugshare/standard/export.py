"""Write, or check, every generated artefact under spec/.

The models and the rule registry are the source; spec/schemas, the
requirements catalogue, the examples, spec/openapi.yaml (the REST API) and
spec/conformance/report.schema.json (a conformance report) are generated from
them. ``check`` mode changes nothing and returns what is stale, so CI can fail
on it.
"""

from __future__ import annotations

from pathlib import Path

from plugshare.standard import schemas
from plugshare.standard.openapi import OPENAPI_FILE, render_openapi
from plugshare.standard.report_schema import REPORT_SCHEMA_FILE, render_report_schema
from plugshare.standard.requirements import fill_readme, render_catalogue

#: Directories whose every file is generated: a file there that is not generated is stale.
GENERATED_DIRS = ("schemas",)


def artefacts(spec_dir: Path) -> dict[str, str]:
    """Path relative to spec/ -> text. spec/README.md is prose with a generated requirements section."""
    from plugshare.standard import examples

    files = {f"schemas/{name}": text for name, text in schemas.published_schemas().items()}
    files["requirements.json"] = render_catalogue()
    files[OPENAPI_FILE] = render_openapi()
    files[REPORT_SCHEMA_FILE] = render_report_schema()
    files.update(examples.artefacts())
    readme = spec_dir / "README.md"
    if readme.is_file():
        files["README.md"] = fill_readme(readme.read_text(encoding="utf-8"))
    return files


def stale(spec_dir: Path) -> list[str]:
    """Generated files that are missing, differ, or are left over, relative to spec/."""
    expected = artefacts(spec_dir)
    out = [path for path, text in expected.items()
           if not (spec_dir / path).is_file() or (spec_dir / path).read_text(encoding="utf-8") != text]
    for directory in (*GENERATED_DIRS, *examples_dirs()):
        for path in sorted((spec_dir / directory).glob("*")):
            relative = path.relative_to(spec_dir).as_posix()
            if path.is_file() and relative not in expected:
                out.append(relative)
    return sorted(out)


def examples_dirs() -> tuple[str, ...]:
    return ("examples/valid", "examples/invalid")


def write(spec_dir: Path) -> list[str]:
    """Write every artefact, remove left-over generated files; return what changed."""
    changed = stale(spec_dir)
    expected = artefacts(spec_dir)
    for relative in changed:
        target = spec_dir / relative
        if relative in expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(expected[relative], encoding="utf-8")
        else:
            target.unlink()
    return changed
