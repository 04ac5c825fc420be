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

    out = sys.stdout
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


# --- adapters ---------------------------------------------------------------------


def _host():
    from plugshare.plugins import make_host

    host = make_host()
    for failure in host.failures:
        click.echo(f"error: {failure}", err=True)
    return host


@main.group()
def adapters() -> None:
    """The adapters installed: built-in ones and those of plugins."""


@adapters.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def adapters_list(output_format: str) -> None:
    """List every adapter with the message types it reads and writes and where it came from.

    Exit status 1 when a plugin could not be loaded (it is named on standard error).
    """
    import json

    from plugshare.plugins import PluginError

    host = _host()
    try:
        entries = host.adapters()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps([entry.describe() for entry in entries.values()], indent=2))
    else:
        for key, entry in entries.items():
            adapter = entry.adapter
            directions = ", ".join(d for d, types in (("reads", adapter.reads), ("writes", adapter.writes)) if types)
            click.echo(f"{key:<14} {adapter.title}")
            click.echo(f"{'':<14} {directions}: {', '.join(sorted(set(adapter.reads) | set(adapter.writes)))}")
            click.echo(f"{'':<14} from {entry.plugin.distribution} {entry.plugin.version} ({entry.plugin.name})")
    sys.exit(1 if host.failures else 0)


@adapters.command("show")
@click.argument("key")
def adapters_show(key: str) -> None:
    """Describe one adapter: what it reads and writes and its options."""
    from plugshare.plugins import PluginError

    try:
        adapter = _host().adapter(key)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{adapter.key}: {adapter.title}")
    if adapter.description:
        click.echo(adapter.description)
    click.echo(f"INPUT/OUTPUT: a {adapter.source_kind}")
    click.echo(f"reads:  {', '.join(adapter.reads) or '-'}")
    click.echo(f"writes: {', '.join(adapter.writes) or '-'}")
    click.echo("options:")
    for option in adapter.options:
        flag = ("required" if option.required else "optional" if option.secret or not option.default
                else f"default {option.default}")
        click.echo(f"  {option.name:<22} {flag:<18} {option.description}")


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--option")
        options[name.strip()] = value
    return options


@main.command()
@click.option("--from", "from_key", required=True, help="The adapter that reads INPUT, or 'canonical'.")
@click.option("--to", "to_key", required=True, help="The adapter that writes OUTPUT, or 'canonical' (NDJSON).")
@click.option("--option", "-o", "option_pairs", multiple=True, metavar="NAME=VALUE",
              help="An adapter option; given to each adapter that declares it. Repeatable.")
@click.option("--quarantine", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="NDJSON file for records that could not be converted, with position and reason.")
@click.option("--max-rejects", type=click.IntRange(min=0), default=0, show_default=True,
              help="How many quarantined records still allow exit status 0.")
@click.option("--progress/--no-progress", default=None,
              help="Progress line on standard error (default: on a terminal only).")
@click.argument("input_path", metavar="INPUT")
@click.argument("output_path", metavar="OUTPUT")
def convert(from_key: str, to_key: str, option_pairs: tuple[str, ...], quarantine: Path | None, max_rejects: int,
            progress: bool | None, input_path: str, output_path: str) -> None:
    """Convert INPUT to OUTPUT through the standard, record by record.

    Every message is validated; a record that cannot be converted goes to the quarantine with its source
    position and the reason, and the counts always add up. Exit status: 0 all converted (or no more rejects
    than --max-rejects), 1 records quarantined, 2 the input, output or options cannot be used.
    """
    from plugshare.adapters.contract import AdapterError
    from plugshare.conversion import CANONICAL, CanonicalSource, Quarantine
    from plugshare.conversion import convert as run_convert
    from plugshare.plugins import PluginError
    from plugshare.progress import ProgressLine, summary_lines

    options = _parse_options(option_pairs)
    host = _host()
    try:
        classes = [None if key == CANONICAL else host.adapter(key) for key in (from_key, to_key)]
        declared = {o.name for cls in classes if cls is not None for o in cls.options}
        unknown = sorted(set(options) - declared)
        if unknown:
            raise AdapterError(f"no adapter in this conversion has the option {', '.join(unknown)}")
        adapters = [None if cls is None else cls({k: v for k, v in options.items()
                                                  if k in {o.name for o in cls.options}}) for cls in classes]
        source = adapters[0] or CanonicalSource()
        if classes[0] is not None and not classes[0].reads:
            raise AdapterError(f"the {from_key} adapter does not read; it writes {', '.join(classes[0].writes)}")
        if classes[1] is not None and not classes[1].writes:
            raise AdapterError(f"the {to_key} adapter does not write; it reads {', '.join(classes[1].reads)}")
        line = ProgressLine(sys.stderr, show=progress)  # progress None: on a terminal only
        try:
            with _quarantine_file(quarantine) as stream:
                summary = run_convert(source, input_path, adapters[1], output_path, Quarantine(stream),
                                      progress=line.update if line.shown else None)
        finally:  # an error is printed on a clean line
            line.finish()
    except (AdapterError, PluginError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for text in summary_lines(summary, from_key, to_key, quarantine, max_rejects):
        click.echo(text, err=output_path == "-")
    sys.exit(summary.exit_code(max_rejects))


class _quarantine_file:
    def __init__(self, path: Path | None):
        self.path = path

    def __enter__(self):
        from plugshare.adapters.contract import AdapterError

        if self.path is None:
            self.handle = None
            return None
        try:
            self.handle = open(self.path, "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise AdapterError(f"{self.path}: the quarantine file cannot be written ({exc.strerror})") from None
        return self.handle

    def __exit__(self, *exc_info) -> None:
        if self.handle is not None:
            self.handle.close()


@main.command("new-adapter")
@click.argument("name")
@click.option("--directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create the package (default: ./plugshare-NAME).")
def new_adapter(name: str, directory: Path | None) -> None:
    """Create a new adapter package with a sample, an entry point and a passing test."""
    from plugshare.plugins import make_host
    from plugshare.scaffold import new_adapter as scaffold

    directory = directory or Path(f"plugshare-{name}")
    builtin = [key for key, entry in make_host(load_entry_points=False).adapters().items() if entry.plugin.builtin]
    try:
        created = scaffold(name, directory, taken=builtin)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {created}")
    click.echo(f"next: pip install -e '{created}[test]' && pytest {created}")


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
