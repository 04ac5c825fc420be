"""The main job, end to end as far as it is built: make the example shared service's data,
validate it against the published standard, summarise, and convert the built-in adapters'
samples through the standard."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from plugshare import __version__
from plugshare.models.version import STANDARD_VERSION
from plugshare.plugins import make_host
from plugshare.rules import RULES, STREAM_RULES
from plugshare.samples import run_sample, sample_conversions
from plugshare.standard.paths import spec_dir
from plugshare.synthetic import COUNCILS, Sizes, generate
from plugshare.validation.reader import read_path
from plugshare.validation.validator import validate_entries


def run_demo(out: Path, seed: int, employees: int, echo: Callable[[str], None]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    data_file = out / "shared-service.ndjson"
    counts: Counter = Counter()
    with open(data_file, "w", encoding="utf-8") as handle:
        for message in generate(seed=seed, sizes=Sizes(employees=employees)):
            counts[(message["council"], message["type"].removeprefix("uk.plugshare."))] += 1
            handle.write(json.dumps(message, ensure_ascii=False) + "\n")
    total = sum(counts.values())
    echo(f"plugshare standard {STANDARD_VERSION}: example shared service of {len(COUNCILS)} councils (seed {seed})")
    echo(f"  generated {total:,} messages -> {data_file}")

    checked, invalid = 0, []
    for report in validate_entries(read_path(str(data_file))):
        checked += not report.late
        if not report.valid and len(invalid) < 20:
            invalid.append(report)
    schemas = len(list((spec_dir() / "schemas").glob("*.json")))
    echo(f"  validated against {schemas} published schema files and {len(RULES) + len(STREAM_RULES)} business rules")
    echo("")
    codes = [c.gss_code for c in COUNCILS]
    names = {c.gss_code: c.name for c in COUNCILS}
    types = sorted({t for _, t in counts})
    echo(f"  {'message type':<40}" + "".join(f"{code:>11}" for code in codes))
    for message_type in types:
        echo(f"  {message_type:<40}" + "".join(f"{counts[(code, message_type)]:>11,}" for code in codes))
    echo("")
    for code in codes:
        echo(f"  {code}  {names[code]}")
    echo("")
    for report in invalid:
        for problem in report.problems:
            echo(f"  {report.location}: {problem.severity}: [{problem.requirement}] {problem.pointer}: "
                 f"{problem.reason}")
    verdict = "all valid" if not invalid else f"{len(invalid)} INVALID"
    echo(f"  result: {checked:,} messages checked, {verdict}")

    caught, missed = _check_invalid_examples()
    echo(f"  the {caught + len(missed)} published invalid examples: {caught} rejected naming the requirement they break"
         + (f"; NOT caught: {', '.join(missed)}" if missed else ""))
    adapters_ok = _convert_samples(out / "adapters", echo)
    api_ok = _api_round_trip(data_file, out / "api", echo)
    conformance_ok, server_report = _conformance(out / "conformance", echo)
    certified_ok = _certify(server_report, out / "certification", echo)
    migrated_ok = _migrate(out / "migration", echo)
    ok = not invalid and not missed and adapters_ok and api_ok and conformance_ok and certified_ok and migrated_ok
    return 0 if ok else 1


def _convert_samples(out: Path, echo: Callable[[str], None]) -> bool:
    """Run every built-in adapter's sample conversions through the standard and show the counts."""
    echo("")
    echo(f"  built-in adapters: their synthetic samples converted through the standard -> {out}")
    echo(f"  {'adapter/sample':<26}{'from -> to':<26}{'read':>6}{'conv':>6}{'quar':>6}  result")
    ok = True
    host = make_host(load_entry_points=False)
    for conversion in sample_conversions():
        result = run_sample(conversion, out, host)
        summary = result.summary
        counts = (f"{summary.read:>6}{summary.converted:>6}{summary.quarantined:>6}" if summary else f"{'-':>18}")
        verdict = "as expected" if result.ok else "UNEXPECTED: " + "; ".join(result.failures)
        if result.ok and conversion.output_equals is not None:
            verdict += f", equals {conversion.output_equals.name}"
        echo(f"  {conversion.label:<26}{conversion.from_key + ' -> ' + conversion.to_key:<26}{counts}  {verdict}")
        for reason, _ in summary.reasons.most_common(2) if summary else ():
            echo(f"      quarantined: {reason}")
        ok &= result.ok
    echo("  every message converted was validated against the published schemas and rules; each quarantined record")
    echo("  is kept with its position and reason in the .quarantine.ndjson beside its output")
    return ok


def _api_round_trip(data_file: Path, out: Path, echo: Callable[[str], None]) -> bool:
    """Each council's data through the reference server's REST API over loopback: import, export, compare."""
    from plugshare.api.app import make_app
    from plugshare.api.server import running
    from plugshare.api.store import open_store
    from plugshare.api.tokens import create_token
    from plugshare.client import Forbidden, PlugshareClient
    from plugshare.models.canonical import canonical_json

    out.mkdir(parents=True, exist_ok=True)
    by_council: dict[str, list[dict]] = {c.gss_code: [] for c in COUNCILS}
    with open(data_file, encoding="utf-8") as handle:
        for line in handle:
            message = json.loads(line)
            by_council[message["council"]].append(message)
    store = open_store(":memory:")
    tokens = {code: create_token(store, [code], label="demo") for code in by_council}
    ok = True
    echo("")
    with store, running(make_app(store)) as where:
        echo(f"  REST API: the reference server on {where.url}/v1 (SQLite in memory), one token per council")
        for code, messages in by_council.items():
            with PlugshareClient(where.url, tokens[code], council=code) as client:
                result = client.import_messages([*messages, *_broken(messages)])
                rejected = [ack for ack in result if ack["status"] == "rejected"]
                summary = result.summary
                exported = list(client.export())
                again = client.import_messages(messages)
                changes = Counter(ack.get("change") for ack in again)
                equal = sorted(map(canonical_json, exported)) == sorted({canonical_json(m): 1 for m in messages})
                unique = {(m["type"], m["data"]["id"]) for m in messages}
                ok &= equal and summary["rejected"] == 2 and set(changes) == {"unchanged"} and \
                    len(exported) == len(unique)
                with open(out / f"{code}.export.ndjson", "w", encoding="utf-8") as export_file:
                    export_file.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in exported)
                echo(f"  {code}: import {summary['lines']} lines: {summary['accepted']} accepted, "
                     f"{summary['rejected']} rejected; export {len(exported)} records, "
                     f"{'equal to what was imported' if equal else 'NOT EQUAL to what was imported'}; "
                     f"import again: {changes.get('unchanged', 0)} unchanged, no duplicates")
                for ack in rejected:
                    error = ack["errors"][0]
                    where_ = f"{error['pointer']}: " if error.get("pointer") else ""
                    echo(f"      line {ack['line']} rejected: [{error['requirement']}] {where_}{error['reason']}")
        first, second = list(by_council)[:2]
        with PlugshareClient(where.url, tokens[first], council=second) as client:
            try:
                next(iter(client.list("hr.person")))
                echo(f"  tenancy: {first}'s token READ {second}'s records")
                ok = False
            except Forbidden as exc:
                echo(f"  tenancy: {first}'s token asking for {second}'s records: {exc.status} [{exc.requirement}]")
    echo(f"  each council's export -> {out}")
    return ok


def _conformance(out: Path, echo: Callable[[str], None]) -> bool:
    """The conformance suite, as a supplier would run it: every built-in adapter for the profiles it declares
    (the corpus's synthetic councils written through it and read back), then the reference server, loaded
    with what the adapters read back, for every profile over loopback HTTP."""
    from plugshare.api.app import make_app
    from plugshare.api.server import running
    from plugshare.api.store import open_store
    from plugshare.api.tokens import create_token
    from plugshare.client import PlugshareClient
    from plugshare.conformance import suite
    from plugshare.conformance.profiles import load_profiles
    from plugshare.conformance.report import write_reports
    from plugshare.conformance.runner import summary_lines

    host = make_host(load_entry_points=False)
    echo("")
    echo(f"  conformance suite {__version__} for standard {STANDARD_VERSION}: reports -> {out}")
    echo("  each built-in adapter, for the profiles it declares (the corpus written through it and read back):")
    built: list[dict] = []
    ok = True
    for key, entry in host.adapters().items():
        if not entry.plugin.builtin:
            continue
        adapter = entry.adapter
        report, context = suite.run_adapter(key, host=host)
        if adapter.reads and adapter.writes:
            built.extend(context.round_trip().read_back)  # kept from the run: the corpus as the adapter read it back
        paths = write_reports(report, out / f"adapter-{key}")
        verdict = summary_lines(report)[0]
        echo(f"    {key:<12} {verdict}  -> {paths['html']}")
        ok &= report.exit_code == 0

    store = open_store(":memory:")
    councils = [c.gss_code for c in COUNCILS]
    tokens = [(code, create_token(store, [code], label="conformance demo")) for code in councils]
    with store, running(make_app(store)) as where:
        loaded = 0
        for code, token in tokens:
            mine = [m for m in built if m.get("council") == code]
            if mine:
                with PlugshareClient(where.url, token, council=code) as client:
                    result = client.import_messages(mine)
                    for _ in result:
                        pass
                    loaded += result.summary["accepted"]
        echo(f"  the reference server on {where.url}/v1, loaded with the {loaded} records the adapters read back,")
        profiles = sorted(load_profiles())
        echo(f"  every profile ({', '.join(profiles)}), councils {', '.join(councils)}:")
        report = suite.run_api(where.url, tokens, profiles, host=host)
    paths = write_reports(report, out / "reference-server")
    for text in summary_lines(report):
        echo(f"    {text}")
    ok &= report.exit_code == 0
    echo(f"  verdict: {'CONFORMS' if report.exit_code == 0 else 'DOES NOT CONFORM'}: the reference server, "
         f"for {', '.join(profiles)}")
    echo("  reports: " + ", ".join(str(path) for path in paths.values()))
    return ok, paths["json"]


def _certify(report_path: Path, out: Path, echo: Callable[[str], None]) -> bool:
    """A certification body's work on the reference server's report: a key pair, a signed certificate,
    its verification, and the register listing it."""
    import shutil

    from plugshare.certification import certificates, keys
    from plugshare.certification.certificates import IssueError
    from plugshare.certification.register import build

    shutil.rmtree(out, ignore_errors=True)  # the demo's own folder: a fresh example key each run
    echo("")
    echo(f"  certification -> {out}")
    pair = keys.generate(out / "keys")
    echo(f"    an example certification body's key pair: {pair.key_id} (issuer.key stays private; issuer.pub is "
         "given to buyers)")
    try:
        document = certificates.issue(report_path, keys.load_private(pair.private_key), supplier="plugshare",
                                      product="plugshare reference server", version=__version__,
                                      issuer_name="example certification body")
    except IssueError as exc:
        echo(f"    no certificate: {exc}")
        return False
    number = document["certificate"]["number"]
    path = certificates.write(document, out / "certificates" / f"{number}.json")
    echo(f"    issued {number} from {report_path} -> {path}")
    verdict = certificates.verify(path, public_key=keys.load_public(pair.public_key),
                                  profiles=document["certificate"]["profiles"])
    for line in certificates.describe(verdict)[:2]:
        echo(f"    verify: {line}")
    summary = build(out / "certificates", out / "register", pair.public_key)
    echo(f"    register: {summary.lines()[0]} -> {out / 'register' / 'index.html'}")
    return verdict.ok


def _migrate(out: Path, echo: Callable[[str], None]) -> bool:
    """Leaving a supplier: Fenmoor's data moved from one reference server to another through the API only,
    then compared record by record."""
    from plugshare.api.app import make_app
    from plugshare.api.server import running
    from plugshare.api.store import open_store
    from plugshare.api.tokens import create_token
    from plugshare.client import PlugshareClient
    from plugshare.migration import migrate, summary_lines, write_reports

    council = COUNCILS[0].gss_code
    echo("")
    echo(f"  migration: {council}'s data from one reference server (the old supplier) to another (the new one)")
    old, new = open_store(":memory:"), open_store(":memory:")
    old.load(m for m in generate() if m["council"] == council)
    old_token, new_token = create_token(old, [council]), create_token(new, [council])
    with old, new, running(make_app(old)) as source, running(make_app(new)) as target:
        with PlugshareClient(source.url, old_token, council=council) as from_client, \
                PlugshareClient(target.url, new_token, council=council) as to_client:
            report = migrate(from_client, to_client, council, out)
    paths = write_reports(report, out)
    for line in summary_lines(report, paths):
        echo(f"    {line}")
    return report.exit_code == 0


def _broken(messages: list[dict]) -> list[dict]:
    """Two invalid copies of a council's first person: an NI number never issued, and a misplaced council."""
    person = next(m for m in messages if m["type"] == "uk.plugshare.hr.person")
    bad_nino, other_council = json.loads(json.dumps(person)), json.loads(json.dumps(person))
    for copy, suffix in ((bad_nino, "-x1"), (other_council, "-x2")):
        copy["id"] += suffix
        copy["data"]["id"] += suffix
        if "subject" in copy:
            copy["subject"] = copy["data"]["id"]
    bad_nino["data"]["ni_number"] = "QQ123456C"
    other_council["council"] = next(c.gss_code for c in COUNCILS if c.gss_code != person["council"])
    return [bad_nino, other_council]


def _check_invalid_examples() -> tuple[int, list[str]]:
    """Each file under spec/examples/invalid must be rejected for the requirement its name starts with."""
    caught, missed = 0, []
    for path in sorted((spec_dir() / "examples" / "invalid").iterdir()):
        requirement = path.name.split("--")[0]
        found = {p.requirement for r in validate_entries(read_path(str(path))) for p in r.problems}
        if requirement in found:
            caught += 1
        else:
            missed.append(path.name)
    return caught, missed
