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
        click.echo(f"{requirement.id:<11} {requirement.level:<6} {requirement.enforced_by:<11} {requirement.text}")


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


def _parse_options(pairs: tuple[str, ...], flag: str = "--option") -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint=flag)
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


# --- the API server -----------------------------------------------------------------


def _councils(codes: tuple[str, ...], option: str) -> list[str]:
    from plugshare.identifiers import gss_problem

    for code in codes:
        problem = gss_problem(code)
        if problem:
            raise click.BadParameter(problem, param_hint=option)
    return list(dict.fromkeys(codes))


def _open_store(db: str, must_exist: bool = False):
    """The server's store; a missing file is an error when ``must_exist`` (listing tokens of a typo'd path)."""
    import sqlite3

    from plugshare.api.store import MEMORY, StoreError, open_store

    if must_exist and (db == MEMORY or not Path(db).is_file()):
        raise click.ClickException(f"{db}: no such database file; give the --db the server was started with")
    try:
        return open_store(db)
    except (StoreError, OSError, sqlite3.Error) as exc:
        raise click.ClickException(f"{db}: the database cannot be opened ({exc})") from None


@main.command()
@click.option("--db", default=":memory:", show_default=True,
              help="SQLite database file holding records and tokens; :memory: lasts as long as the server.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on; 0 picks a free one (the address is printed).")
@click.option("--token-for", "token_for", multiple=True, metavar="CODE",
              help="Make a token at start for this council (repeatable: one token for all given) and print it.")
@click.option("--load", "load_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Canonical messages (NDJSON, JSON or a directory) to load at start; validated first.")
@click.option("--synthetic", is_flag=True,
              help="Load the synthetic shared service of three fictional councils at start.")
@click.option("--adapter", "adapter_key", default=None, metavar="KEY",
              help="Gateway mode: serve, read-only, what this adapter reads from --adapter-source.")
@click.option("--adapter-source", default=None, metavar="PATH|URL", help="What the gateway's adapter reads.")
@click.option("--adapter-option", "adapter_options", multiple=True, metavar="NAME=VALUE",
              help="An option of the gateway's adapter. Repeatable.")
@click.option("--refresh", "refresh_seconds", type=click.FloatRange(min=0), default=0.0,
              help="Gateway mode: read the source again every so many seconds (0: only at start).")
@click.option("--quarantine", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Gateway mode: NDJSON file for source records that could not be converted (rewritten at each "
                   "refresh).")
@click.option("--access-log/--no-access-log", default=True, show_default=True)
def serve(db: str, host: str, port: int, token_for: tuple[str, ...], load_paths: tuple[Path, ...], synthetic: bool,
          adapter_key: str | None, adapter_source: str | None, adapter_options: tuple[str, ...],
          refresh_seconds: float, quarantine: Path | None, access_log: bool) -> None:
    """Serve the standard's REST API: the reference server, or with --adapter a read-only gateway.

    Every request acts for one council with a bearer token bound to it (make one with 'plugshare tokens
    create' or --token-for). Stop with Ctrl-C or SIGTERM: requests in flight finish and the database is
    closed cleanly.
    """
    import threading

    from plugshare.api import server
    from plugshare.api.app import make_app
    from plugshare.api.tokens import create_token, list_tokens

    if adapter_key is None and (adapter_source or adapter_options or refresh_seconds or quarantine):
        raise click.UsageError("--adapter-source, --adapter-option, --refresh and --quarantine need --adapter")
    if adapter_key is not None and (load_paths or synthetic):
        raise click.UsageError("--load and --synthetic fill the reference server; a gateway (--adapter) serves "
                               "only what its adapter reads")
    councils = _councils(token_for, "--token-for")
    store = _open_store(db)
    stopping = threading.Event()
    refresher: threading.Thread | None = None
    try:
        if adapter_key is not None:
            app, refresher = _gateway_app(store, adapter_key, adapter_source, adapter_options, refresh_seconds,
                                          quarantine, stopping)
        else:
            _load(store, load_paths, synthetic)
            app = make_app(store)
        if councils:
            token = create_token(store, councils, label="plugshare serve --token-for")
            click.echo(f"token for {' '.join(councils)}: {token}")
        elif not any(info.active() for info in list_tokens(store)):
            click.echo("note: no token can use this server yet; start it with --token-for CODE, or run "
                       f"'plugshare tokens create --db {db} --council CODE'", err=True)

        def announce(where) -> None:
            kind = f"gateway over {adapter_key}" if adapter_key else "reference server"
            click.echo(f"plugshare {kind} listening on {where.url} (API at {where.url}/v1, database {db})")
            sys.stdout.flush()

        try:
            server.run(app, host, port, announce, access_log=access_log)
        except OSError as exc:  # only binding: an OSError while loading data is not about the address
            raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    finally:
        stopping.set()
        if refresher is not None:  # a refresh in progress ends at its next batch, once the store is closed
            refresher.join(server.GRACEFUL_SHUTDOWN_SECONDS)
        store.close()


def _load(store, paths: tuple[Path, ...], synthetic: bool) -> None:
    from plugshare.adapters.contract import AdapterError
    from plugshare.conversion import CanonicalSource, ConversionSummary, read_valid

    for path in paths:
        summary = ConversionSummary()
        try:
            changes = store.load(read_valid(CanonicalSource(), str(path), summary))
        except AdapterError as exc:
            raise click.ClickException(str(exc)) from None
        skipped = f", {summary.quarantined} invalid record(s) not loaded" if summary.quarantined else ""
        click.echo(f"loaded {path}: {sum(changes.values())} message(s){skipped}", err=True)
    if synthetic:
        from plugshare.synthetic import generate

        changes = store.load(generate())
        click.echo(f"loaded the synthetic shared service: {sum(changes.values())} message(s)", err=True)


def _gateway_app(store, adapter_key: str, source: str | None, option_pairs: tuple[str, ...], every: float,
                 quarantine: Path | None, stopping):
    """The read-only app over an adapter's source, read once now; and the thread refreshing it, if ``every``."""
    import threading

    from plugshare.adapters.contract import AdapterError
    from plugshare.api.app import make_app
    from plugshare.api.gateway import gateway_capabilities, refresh
    from plugshare.conversion import Quarantine
    from plugshare.plugins import PluginError

    options = _parse_options(option_pairs, "--adapter-option")
    try:
        cls = _host().adapter(adapter_key)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    if not cls.reads:
        raise click.ClickException(f"the {adapter_key} adapter does not read; a gateway serves what an adapter reads")
    if source is None:
        raise click.UsageError(f"--adapter-source: give the {cls.source_kind} the {adapter_key} adapter reads")
    unknown = sorted(set(options) - {o.name for o in cls.options})
    if unknown:
        raise click.UsageError(f"the {adapter_key} adapter has no option {', '.join(unknown)} "
                               f"(see 'plugshare adapters show {adapter_key}')")
    try:
        adapter = cls(options)
        with _quarantine_file(quarantine) as stream:
            result = refresh(store, adapter, source, Quarantine(stream))
    except AdapterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"gateway over {adapter_key}: {result.describe()}", err=True)
    refresher = None
    if every:
        def again() -> None:
            while not stopping.wait(every):
                try:
                    with _quarantine_file(quarantine) as stream:  # rewritten: what the current copy lacks
                        result = refresh(store, adapter, source, Quarantine(stream))
                    click.echo(f"gateway refresh: {result.describe()}", err=True)
                except AdapterError as exc:  # the source is unreadable for now: keep serving the last copy
                    click.echo(f"gateway refresh failed, still serving the last copy: {exc}", err=True)
                except Exception as exc:  # one failed refresh must not end the refreshing
                    if stopping.is_set() or store.closed:  # the server stopped and closed the store under it
                        return
                    # the type only: the message of an unexpected failure may quote a source record
                    click.echo(f"gateway refresh failed ({type(exc).__name__}), still serving the last copy",
                               err=True)

        refresher = threading.Thread(target=again, name="gateway-refresh", daemon=True)
        refresher.start()
    return make_app(store, capabilities=gateway_capabilities(adapter), read_only=True), refresher


@main.group()
def tokens() -> None:
    """Bearer tokens of the reference server, each bound to the councils it may act for."""


@tokens.command("create")
@click.option("--db", required=True, help="The server's SQLite database file.")
@click.option("--council", "councils", multiple=True, required=True, metavar="CODE",
              help="A council (GSS code) the token may act for. Repeatable.")
@click.option("--label", default=None, help="Who or what the token is for.")
@click.option("--expires-in", "expires_in", type=click.IntRange(min=1), default=None, metavar="DAYS",
              help="Days until the token stops working (default: never).")
def tokens_create(db: str, councils: tuple[str, ...], label: str | None, expires_in: int | None) -> None:
    """Make a token and print it on standard output; it is stored hashed and cannot be shown again."""
    import datetime as dt

    from plugshare.api.tokens import create_token

    codes = _councils(councils, "--council")
    if db == ":memory:":
        raise click.BadParameter("a token in :memory: would vanish at once; give the server's database file",
                                 param_hint="--db")
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_in) if expires_in else None
    store = _open_store(db)
    try:
        click.echo(create_token(store, codes, label=label, expires_at=expires))
    finally:
        store.close()


@tokens.command("list")
@click.option("--db", required=True, help="The server's SQLite database file.")
def tokens_list(db: str) -> None:
    """List tokens (never their secrets): id, councils, state, label."""
    from plugshare.api.tokens import list_tokens

    store = _open_store(db, must_exist=True)
    try:
        for info in list_tokens(store):
            state = (f"revoked {info.revoked_at}" if info.revoked_at else "expired" if not info.active()
                     else f"expires {info.expires_at}" if info.expires_at else "active")
            click.echo(f"{info.token_id}  {' '.join(info.councils):<32} {state:<40} {info.label or ''}".rstrip())
    finally:
        store.close()


@tokens.command("revoke")
@click.option("--db", required=True, help="The server's SQLite database file.")
@click.argument("token_id")
def tokens_revoke(db: str, token_id: str) -> None:
    """Revoke a token by its id (the part after psk_); it stops working at once."""
    from plugshare.api.tokens import revoke_token, split_token

    parts = split_token(token_id)
    shown = parts[0] if parts else token_id  # given the whole token, never echo its secret
    store = _open_store(db, must_exist=True)
    try:
        if not revoke_token(store, token_id):
            click.echo(f"error: no active token {shown!r} in {db}", err=True)
            sys.exit(1)
        click.echo(f"revoked {shown}")
    finally:
        store.close()


# --- moving a council to another supplier -------------------------------------------


@main.command()
@click.option("--from", "from_url", required=True, metavar="URL", help="The API root of the supplier the data leaves.")
@click.option("--from-token", required=True, envvar="PLUGSHARE_FROM_TOKEN", metavar="TOKEN",
              help="Bearer token for the council at the source (or $PLUGSHARE_FROM_TOKEN). Never printed or written.")
@click.option("--to", "to_url", required=True, metavar="URL", help="The API root of the supplier the data goes to.")
@click.option("--to-token", required=True, envvar="PLUGSHARE_TO_TOKEN", metavar="TOKEN",
              help="Bearer token for the council at the target (or $PLUGSHARE_TO_TOKEN). Never printed or written.")
@click.option("--council", required=True, metavar="CODE", help="The council whose data moves (a GSS code).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the checkpoint, migration.json and migration.html (default: ./migration-CODE). "
                   "Run again with the same folder to resume.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Messages sent to the target's import at a time; the checkpoint moves on after each.")
@click.option("--progress/--no-progress", default=None,
              help="Progress on standard error (default: on a terminal only).")
def migrate(from_url: str, from_token: str, to_url: str, to_token: str, council: str, out_dir: Path | None,
            chunk_size: int, progress: bool | None) -> None:
    """Move a council's data from one supplier to another through the standard API, then verify it.

    The source's export is imported into the target in chunks; then both sides are exported and compared:
    counts per message type, and every record equal after canonicalisation. Interrupted, it is resumed by
    running the same command again (nothing is duplicated). Exit status: 0 the data is equal, 1 it is not
    (what differs is named by type and id in the report), 2 usage, a side that cannot be reached or refuses
    its token, or a migration that stopped part-way (run it again to resume); 130 interrupted.
    """
    from plugshare.client import PlugshareClient
    from plugshare.migration import CHECKPOINT, MigrationError, ProgressLine, api_root, summary_lines
    from plugshare.migration import migrate as run_migrate

    _councils((council,), "--council")
    out = out_dir if out_dir is not None else Path(f"migration-{council}")
    line = ProgressLine(sys.stderr, show=progress)  # progress None: on a terminal only
    try:
        roots = api_root(from_url, "source"), api_root(to_url, "target")
        with PlugshareClient(roots[0], from_token, council=council) as source, \
                PlugshareClient(roots[1], to_token, council=council) as target:
            try:
                report = run_migrate(source, target, council, out, progress=line.update if line.shown else None,
                                     chunk_size=chunk_size)
            finally:  # an error is printed on a clean line
                line.finish()
    except MigrationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"error: {out}: the migration's files cannot be written ({exc.strerror or exc})", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: run the same command again to resume from {out / CHECKPOINT} (nothing is "
                   "duplicated)", err=True)
        sys.exit(130)
    for text in summary_lines(report, {"json": out / "migration.json", "html": out / "migration.html"}):
        click.echo(text)
    sys.exit(report.exit_code)


# --- certification --------------------------------------------------------------------


@main.group()
def certify() -> None:
    """Certificates: an issuer's keys, signed certificates issued from passing reports, and their checking."""


_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _issuer_key_options(command):
    """--public-key FILE or --keyring DIR: the issuer keys a certificate is checked with."""
    command = click.option("--keyring", "keyring_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                           default=None, help="A directory of trusted issuers' public keys (*.pub), instead of "
                                              "--public-key.")(command)
    return click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                        help="The issuer's public key (issuer.pub).")(command)


def _issuer_keys(public_key: Path | None, keyring_dir: Path | None):
    """(public key, keyring) from --public-key or --keyring; exit 2 unless exactly one is given and usable."""
    from plugshare.certification.keys import KeyFileError, keyring, load_public

    if (public_key is None) == (keyring_dir is None):
        click.echo("error: give the issuer's key: exactly one of --public-key FILE or --keyring DIR", err=True)
        sys.exit(2)
    try:
        return (load_public(public_key), None) if public_key is not None else (None, keyring(keyring_dir))
    except KeyFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def _private_key(path: Path):
    from plugshare.certification.keys import KeyFileError, exposure, load_private

    try:
        key = load_private(path)
    except KeyFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    warning = exposure(path)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    return key


@certify.command("keygen")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where to write issuer.key (private, readable by you only) and issuer.pub (for buyers).")
def certify_keygen(out_dir: Path) -> None:
    """Make an issuer's Ed25519 key pair. The private key goes to its file only and is never shown;
    an existing key is never overwritten."""
    from plugshare.certification.keys import KeyFileError, generate

    try:
        pair = generate(out_dir)
    except KeyFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"key id: {pair.key_id}")
    click.echo(f"private key: {pair.private_key} (keep it secret: whoever holds it can issue certificates)")
    click.echo(f"public key: {pair.public_key} (give it to buyers, who verify certificates with it)")


@certify.command("issue")
@click.option("--report", "report_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="The report.json of a complete, conforming conformance run.")
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The issuer's private key (issuer.key).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The certificate file to write (never replaced if it exists).")
@click.option("--supplier", required=True, help="The supplier's name as it goes on the certificate.")
@click.option("--product", required=True, help="The product's name.")
@click.option("--version", "product_version", required=True, help="The exact product version tested.")
@click.option("--issuer", "issuer_name", default=None, help="The issuer's name (default: its key id).")
@click.option("--profile", "profile_ids", multiple=True, metavar="PROFILE",
              help="A profile to certify (default: every profile of the report). Repeatable.")
@click.option("--valid-days", type=click.IntRange(min=1), default=None, metavar="N",
              help="Days the certificate is valid (default: one year).")
@click.option("--expires", "expires_on", type=_DATE, default=None, metavar="YYYY-MM-DD",
              help="The day it expires, instead of --valid-days.")
def certify_issue(report_path: Path, key_path: Path, out_path: Path, supplier: str, product: str,
                  product_version: str, issuer_name: str | None, profile_ids: tuple[str, ...],
                  valid_days: int | None, expires_on) -> None:
    """Issue a signed certificate from a report in which every MUST check passed.

    Exit status: 0 issued; 1 refused (the report is not valid, not complete, does not conform, or does not
    pass a profile asked for: the reason is printed); 2 usage (a key that cannot be read, an existing --out).
    """
    from plugshare.certification.certificates import IssueError, issue, write

    if valid_days is not None and expires_on is not None:
        click.echo("error: give --valid-days or --expires, not both", err=True)
        sys.exit(2)
    if out_path.exists():
        click.echo(f"error: {out_path} already exists; a certificate is never overwritten: choose another --out",
                   err=True)
        sys.exit(2)
    private_key = _private_key(key_path)
    try:
        document = issue(report_path, private_key, supplier=supplier, product=product, version=product_version,
                         issuer_name=issuer_name, profiles=profile_ids or None, valid_days=valid_days,
                         expires_on=expires_on.date() if expires_on else None)
    except IssueError as exc:
        click.echo(f"REFUSED: {exc}", err=True)
        sys.exit(1)
    try:
        write(document, out_path)
    except OSError as exc:
        click.echo(f"error: {out_path} cannot be written ({exc.strerror or exc})", err=True)
        sys.exit(2)
    cert = document["certificate"]
    click.echo(f"issued certificate {cert['number']} to {cert['supplier']} for {cert['product']['name']} "
               f"{cert['product']['version']}: profiles {', '.join(cert['profiles'])}; valid from "
               f"{cert['issued_on']}, expires on {cert['expires_on']}; signed with key {cert['issuer']['key_id']}")
    click.echo(f"written {out_path}")


@certify.command("verify")
@click.argument("certificate_path", metavar="CERT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_issuer_key_options
@click.option("--profile", "profile_ids", multiple=True, metavar="PROFILE",
              help="A profile the certificate must cover. Repeatable.")
@click.option("--at", "at", type=_DATE, default=None, metavar="YYYY-MM-DD",
              help="The date to check it for (default: today).")
@click.option("--revocations", "revocations_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The issuer's signed revocation list.")
def certify_verify(certificate_path: Path, public_key: Path | None, keyring_dir: Path | None,
                   profile_ids: tuple[str, ...], at, revocations_path: Path | None) -> None:
    """Say whether a certificate is authentic, current, not revoked and covers the profiles asked for.

    Exit status: 0 valid; 1 not valid (each reason printed); 2 the check could not be made (usage, a key
    that cannot be read, a revocation list that is not authentic or is another issuer's).
    """
    from plugshare.certification.certificates import describe, verify
    from plugshare.certification.revocations import RevocationError
    from plugshare.certification.revocations import load as load_revocations

    single, ring = _issuer_keys(public_key, keyring_dir)
    try:
        revocations = (load_revocations(revocations_path, single if single is not None else ring)
                       if revocations_path is not None else None)
        verdict = verify(certificate_path, public_key=single, keyring=ring, profiles=profile_ids,
                         at=at.date() if at else None, revocations=revocations)
    except RevocationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for line in describe(verdict):
        click.echo(line)
    sys.exit(0 if verdict.ok else 1)


@certify.command("revoke")
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The issuer's private key (issuer.key).")
@click.option("--list", "list_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The issuer's revocation list (created if absent, re-signed).")
@click.option("--number", required=True, help="The certificate's number, e.g. PSC-2026-7F3A9C21.")
@click.option("--reason", required=True, help="Why it is revoked, as buyers will read it.")
def certify_revoke(key_path: Path, list_path: Path, number: str, reason: str) -> None:
    """Revoke a certificate: add it to the issuer's signed revocation list, which is then published.

    Exit status: 0 revoked (or already revoked); 2 usage (a key that cannot be read, a malformed number,
    a list that is not this issuer's or not authentic).
    """
    from plugshare.certification.revocations import AlreadyRevoked, RevocationError, revoke

    private_key = _private_key(key_path)
    try:
        revoked = revoke(list_path, private_key, number, reason)
    except AlreadyRevoked as exc:
        click.echo(f"{exc}; {list_path} is unchanged")
        return
    except RevocationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    entry = revoked.find(number)
    click.echo(f"revoked certificate {number} on {entry.revoked_on.isoformat()} ({entry.reason})")
    click.echo(f"written {list_path}: {len(revoked.revoked)} revoked, signed with key {revoked.issuer_key_id}; "
               "publish it where buyers fetch it")


@certify.command("show")
@click.argument("certificate_path", metavar="CERT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The printable page to write.")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Check it with the issuer's public key first, and print its status on the page.")
@click.option("--keyring", "keyring_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Check it with a directory of issuers' public keys instead.")
@click.option("--at", "at", type=_DATE, default=None, metavar="YYYY-MM-DD",
              help="With a key: the date the status is for (default: today).")
@click.option("--revocations", "revocations_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="With a key: the issuer's signed revocation list.")
def certify_show(certificate_path: Path, html_path: Path, public_key: Path | None, keyring_dir: Path | None,
                 at, revocations_path: Path | None) -> None:
    """Write a certificate's printable page. Without a key the page says it was not checked.

    Exit status: 0 written; 1 the file is not an authentic certificate (no page is written); 2 usage.
    """
    from plugshare.certification.certificates import describe, read_certificate, verify
    from plugshare.certification.pages import UNCHECKED, certificate_page
    from plugshare.certification.revocations import RevocationError
    from plugshare.certification.revocations import load as load_revocations

    document, problem = read_certificate(certificate_path)
    if document is None:
        click.echo(f"NOT VALID: {certificate_path} is not a plugshare certificate; no page written", err=True)
        click.echo(f"- {problem.text}", err=True)
        sys.exit(1)
    status, checked_on, revocation_checked = UNCHECKED, None, None
    if public_key is not None or keyring_dir is not None:
        single, ring = _issuer_keys(public_key, keyring_dir)
        try:
            revocations = (load_revocations(revocations_path, single if single is not None else ring)
                           if revocations_path is not None else None)
            verdict = verify(certificate_path, public_key=single, keyring=ring, at=at.date() if at else None,
                             revocations=revocations)
        except RevocationError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        if not verdict.authentic:
            for line in describe(verdict):
                click.echo(line, err=True)
            click.echo("no page written: a page would lend it the look of a real certificate", err=True)
            sys.exit(1)
        status, checked_on, revocation_checked = verdict.status, verdict.at, verdict.revocations is not None
    elif at is not None or revocations_path is not None:
        click.echo("error: --at and --revocations go with --public-key or --keyring", err=True)
        sys.exit(2)
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(certificate_page(document, status, checked_on=checked_on,
                                              revocation_checked=revocation_checked), encoding="utf-8")
    except OSError as exc:
        click.echo(f"error: {html_path} cannot be written ({exc.strerror or exc})", err=True)
        sys.exit(2)
    click.echo(f"written {html_path} (status: {status.replace('_', ' ')})")


@main.group()
def register() -> None:
    """The public register of certified products: a static site anyone can open offline and search."""


@register.command("build")
@click.argument("certs_dir", metavar="CERTS_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where to write index.html, register.json and a printable page per certificate.")
@_issuer_key_options
@click.option("--revocations", "revocations_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The issuer's signed revocation list.")
@click.option("--at", "at", type=_DATE, default=None, metavar="YYYY-MM-DD",
              help="The date the statuses are for (default: today).")
def register_build(certs_dir: Path, out_dir: Path, public_key: Path | None, keyring_dir: Path | None,
                   revocations_path: Path | None, at) -> None:
    """List every certificate in CERTS_DIR with its status (valid, expired, revoked, not authentic).

    Exit status: 0 built; 2 the register could not be built (no usable key, a revocation list that is not
    authentic, an output folder that cannot be written). A file that is not an authentic certificate is
    listed as such, never as valid.
    """
    from plugshare.certification.register import RegisterError, build

    if (public_key is None) == (keyring_dir is None):
        click.echo("error: give the issuer's key: exactly one of --public-key FILE or --keyring DIR", err=True)
        sys.exit(2)
    try:
        summary = build(certs_dir, out_dir, public_key or keyring_dir, revocations=revocations_path,
                        at=at.date() if at else None)
    except (RegisterError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for line in summary.lines():
        click.echo(line)


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


# --- the conformance suite ------------------------------------------------------------


@main.group()
def conformance() -> None:
    """The conformance suite: requirement-traced checks run against a live API or an adapter."""


@conformance.command("run")
@click.option("--target", "target_url", default=None, metavar="URL", help="The API root of the server to test.")
@click.option("--token", "tokens", multiple=True, metavar="TOKEN",
              help="Bearer token: once for every --council, or once per --council in order. Never printed; "
                   "--config with token_env keeps tokens off the command line.")
@click.option("--council", "council_codes", multiple=True, metavar="CODE",
              help="A council (GSS code) under test with --target; the first is the primary. Repeatable.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML: target, councils (code with token or token_env), profiles, timeout, retries.")
@click.option("--adapter", "adapter_key", default=None, metavar="KEY", help="Test an installed adapter instead.")
@click.option("--adapter-option", "adapter_options", multiple=True, metavar="NAME=VALUE",
              help="An option of the adapter under test. Repeatable.")
@click.option("--profile", "profile_ids", multiple=True, metavar="PROFILE",
              help="A profile to certify for (see 'plugshare conformance profiles'). Repeatable.")
@click.option("--only", "only_ids", multiple=True, metavar="CHECK", help="Run only this check. Repeatable.")
@click.option("--rerun-failed", "rerun_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="REPORT", help="Run only the checks that failed, erred or were skipped in this report.json "
                                     "(its profiles unless --profile is given).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where to write report.json, junit.xml and report.html.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Per-request timeout (default 30, or the config's).")
@click.option("--bulk-timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="How long an import or export may take to deliver its data (default 600, or the config's).")
@click.option("--retries", type=click.IntRange(min=0), default=None,
              help="Retries of a request the target asks to repeat (default 3, or the config's).")
@click.option("--progress/--no-progress", default=None,
              help="One line per check on standard error (default: on a terminal only).")
def conformance_run(target_url: str | None, tokens: tuple[str, ...], council_codes: tuple[str, ...],
                    config_path: Path | None, adapter_key: str | None, adapter_options: tuple[str, ...],
                    profile_ids: tuple[str, ...], only_ids: tuple[str, ...], rerun_path: Path | None, out_dir: Path,
                    timeout: float | None, bulk_timeout: float | None, retries: int | None,
                    progress: bool | None) -> None:
    """Run the checks of the chosen profiles against an API or an adapter and write the reports.

    Exit status: 0 every MUST check of the chosen profiles passed (or does not apply) in a complete run, and
    each profile had at least one MUST check pass; 1 otherwise (a failure, an error, a skipped MUST check, a
    profile none of whose checks applied, or a run narrowed by --only / --rerun-failed); 2 the run cannot
    start (usage, unreadable config, unknown profile or check, a profile the adapter does not declare, a
    report to rerun from another suite or standard version, unreachable target) or its reports cannot be
    written.
    """
    from plugshare.conformance import runner, suite
    from plugshare.conformance.report import ReportError, write_reports

    try:
        asked = suite.request(target_url=target_url, tokens=tokens, council_codes=council_codes,
                              config_path=config_path, adapter_key=adapter_key,
                              adapter_options=_parse_options(adapter_options, "--adapter-option"),
                              profile_ids=profile_ids, only=only_ids, rerun_path=rerun_path, out_dir=out_dir,
                              timeout=timeout, retries=retries, bulk_timeout=bulk_timeout)
        host = _host()
        the_plan = suite.plan(asked, host)
        report = suite.execute(suite.open_target(asked, the_plan, host), the_plan, _progress_display(progress))
    except suite.NothingToRerun as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except (suite.UsageError, click.BadParameter) as exc:
        click.echo(f"error: {exc.message if isinstance(exc, click.BadParameter) else exc}", err=True)
        sys.exit(2)
    for text in runner.summary_lines(report):
        click.echo(text)
    try:
        written = write_reports(report, out_dir)
    except (OSError, ReportError) as exc:
        reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
        click.echo(f"error: {out_dir}: the reports cannot be written ({reason})", err=True)
        sys.exit(2)
    click.echo("reports: " + ", ".join(str(path) for path in written.values()))
    sys.exit(runner.exit_code(report))


def _progress_display(progress: bool | None):
    from plugshare.conformance.runner import ProgressDisplay

    if progress is None:
        try:
            progress = sys.stderr.isatty()
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            progress = False
    return ProgressDisplay(sys.stderr) if progress else None


@conformance.command("requirements")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def conformance_requirements(output_format: str) -> None:
    """Every requirement of the standard with the checks that verify it, or the reason it is not tested.

    Exit status 1 when a MUST requirement has neither, or a reason is stale (named on standard error).
    """
    import json

    from plugshare.conformance import coverage, registry
    from plugshare.conformance.profiles import ProfileError

    try:
        rows = coverage.coverage(registry.checks(_host()).values())
        gaps = coverage.gaps(rows)
    except (registry.RegistryError, coverage.CoverageError, ProfileError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(rows, indent=2) if output_format == "json" else coverage.render_text(rows))
    for gap in gaps:
        click.echo(f"error: {gap}", err=True)
    sys.exit(1 if gaps else 0)


@conformance.command("checks")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--profile", "profile_ids", multiple=True, metavar="PROFILE", help="Only the checks of this profile.")
def conformance_checks(output_format: str, profile_ids: tuple[str, ...]) -> None:
    """List the checks: id, level, targets, profiles, title and the plugin that registered each."""
    import json

    from plugshare.conformance import registry
    from plugshare.conformance.profiles import ProfileError, load_profiles

    try:
        found = list(registry.checks(_host()).values())
        unknown = sorted(set(profile_ids) - set(load_profiles()))
    except (registry.RegistryError, ProfileError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if unknown:
        click.echo(f"error: no profile {', '.join(unknown)}", err=True)
        sys.exit(2)
    if profile_ids:
        found = [c for c in found if set(c.profiles) & set(profile_ids)]
    if output_format == "json":
        click.echo(json.dumps([c.describe() for c in found], indent=2))
        return
    for check in found:
        click.echo(f"{check.id:<12} {check.level:<6} {'/'.join(sorted(check.targets)):<12} {check.title}")
        click.echo(f"{'':<13}{', '.join(check.requirements)}; profiles {', '.join(check.profiles)}"
                   + ("" if check.source == "plugshare.conformance.builtin" else f"; from {check.source}"))


@conformance.command("profiles")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def conformance_profiles(output_format: str) -> None:
    """List the profiles a supplier can certify for, with their message types and targets."""
    import dataclasses
    import json

    from plugshare.conformance.profiles import ProfileError, load_profiles

    try:
        found = load_profiles()
    except ProfileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if output_format == "json":
        click.echo(json.dumps([dataclasses.asdict(p) for p in found.values()], indent=2))
        return
    for profile in found.values():
        types = ", ".join(profile.message_types) or "those of the other chosen profiles, or every type declared"
        click.echo(f"{profile.id:<15} {profile.title} (targets: {', '.join(profile.targets)})")
        click.echo(f"{'':<15} types: {types}")
        if profile.features:
            click.echo(f"{'':<15} features: {', '.join(profile.features)}")


@conformance.command("corpus")
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--employees", type=click.IntRange(min=1), default=None,
              help="Employees per council (default: the committed corpus's small size); large for benchmarks.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where to write corpus.ndjson, invalid.ndjson and expected.json.")
def conformance_corpus(seed: int, employees: int | None, out_dir: Path) -> None:
    """Generate the synthetic corpus the suite loads into a target."""
    from plugshare.conformance.corpus import write_corpus

    kwargs = {} if employees is None else {"employees": employees}
    try:
        expected = write_corpus(out_dir, seed=seed, **kwargs)
    except OSError as exc:
        click.echo(f"error: {out_dir}: the corpus cannot be written ({exc.strerror or exc})", err=True)
        sys.exit(2)
    total = sum(n for types in expected.get("counts", {}).values() for n in types.values())
    click.echo(f"wrote {total} messages for {len(expected.get('counts', {}))} councils to {out_dir}")


if __name__ == "__main__":  # pragma: no cover
    main()
