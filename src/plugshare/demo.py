"""The main job, end to end as far as it is built: make the example shared service's data,
validate it against the published standard, summarise, and convert the built-in adapters'
samples through the standard."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

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
    return 0 if not invalid and not missed and adapters_ok else 1


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
