"""The ``plugshare`` command: a thin layer over the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from plugshare import __version__
from plugshare.models.version import STANDARD_VERSION


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, message=f"plugshare %(version)s (standard {STANDARD_VERSION})")
def main() -> None:
    """plugshare: the interoperability standard for councils' shared HR, payroll and revenues services."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              help="Report for people (text) or machines (json).")
@click.option("--input-format", type=click.Choice(["auto", "json", "ndjson"]), default="auto",
              help="How to read the inputs; auto goes by file extension, then by content.")
@click.option("--all", "all_messages", is_flag=True, help="With --format json, list valid messages too.")
@click.option("-v", "--verbose", is_flag=True, help="Quote the text of each requirement broken.")
def validate(paths: tuple[str, ...], output_format: str, input_format: str, all_messages: bool,
             verbose: bool) -> None:
    """Validate messages in JSON files, NDJSON streams or directories (- for standard input).

    Every message is checked against the published schema files and the business rules. Exit status:
    0 all valid, 1 some message invalid, 2 an input could not be read.
    """
    from plugshare.validation.report import JsonReporter, TextReporter
    from plugshare.validation.run import validate_paths

    out = click.get_text_stream("stdout")
    reporter = JsonReporter(out, all_messages) if output_format == "json" else TextReporter(out, verbose)
    summary = validate_paths(list(paths), reporter, input_format)
    sys.exit(summary.exit_code)


@main.group()
def spec() -> None:
    """The published files of the standard under spec/."""


@spec.command("export")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 naming each stale file.")
@click.option("--spec-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the spec/ directory is (default: this installation's).")
def spec_export(check: bool, spec_dir: Path | None) -> None:
    """Generate the schemas, the requirements catalogue and the examples from the models."""
    from plugshare.standard import export
    from plugshare.standard.paths import spec_dir as default_spec_dir

    spec_dir = spec_dir or default_spec_dir()
    if check:
        stale = export.stale(spec_dir)
        for path in stale:
            click.echo(f"stale: {spec_dir / path}")
        if stale:
            click.echo(f"{len(stale)} generated file(s) differ from the models; regenerate with "
                       "'plugshare spec export' (or 'make spec') and commit them.", err=True)
            sys.exit(1)
        click.echo(f"spec is up to date ({len(export.artefacts(spec_dir))} generated files in {spec_dir})")
        return
    changed = export.write(spec_dir)
    for path in changed:
        click.echo(f"wrote: {spec_dir / path}")
    click.echo(f"{len(changed)} file(s) changed in {spec_dir}")


@spec.command("requirements")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def spec_requirements(output_format: str) -> None:
    """List every requirement of the standard with its id, level and text."""
    from plugshare.standard.requirements import catalogue, render_catalogue

    if output_format == "json":
        click.echo(render_catalogue(), nl=False)
        return
    for requirement in catalogue():
        click.echo(f"{requirement.id:<11} {requirement.level:<6} {requirement.enforced_by:<6} {requirement.text}")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Where to write the generated data.")
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--employees", type=int, default=12, show_default=True, help="Employees per council.")
def demo(out: Path, seed: int, employees: int) -> None:
    """Generate the example shared service's data, validate it, and summarise."""
    from plugshare.demo import run_demo

    sys.exit(run_demo(out, seed, employees, click.echo))


if __name__ == "__main__":  # pragma: no cover
    main()
