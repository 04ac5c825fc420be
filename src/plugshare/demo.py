"""The main job, end to end as far as it is built: make the example shared service's data,
validate it against the published standard, and summarise."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from plugshare.models.version import STANDARD_VERSION
from plugshare.rules import RULES, STREAM_RULES
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
    return 0 if not invalid and not missed else 1


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
