"""Benchmark: the conformance corpus at volume, and the data checks over it.

Generates a large corpus with ``write_corpus(employees=N)`` into a temporary directory and reports ratios
against baselines measured on the same machine in the same run:

- corpus generation against generating the same messages with ``synthetic.generate`` and writing them as
  JSON lines (the cost of canonical lines, counts and digests);
- the data checks (PSC-SCH-002, PSC-RUL-001, PSC-RUL-002 sharing one pass) over every council's export of
  the corpus, against validating the corpus file as ``plugshare validate`` does;
- the peak memory of the data checks at 1x and 4x the employees, each in a fresh process: the checks
  stream an export, keeping a digest and a name per record, so the 4x peak should stay well under 4 times
  the 1x peak.

Run: .venv/bin/python bench/bench_conformance.py [--employees N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plugshare.conformance.corpus import CORPUS, sizes_for, write_corpus
from plugshare.synthetic import generate

CHILD = """
import resource, sys, time
from plugshare.conformance.checks import data
from plugshare.conformance.context import ApiContext
from plugshare.conformance.corpus import CORPUS, load
from plugshare.models import MESSAGE_TYPES
from plugshare.validation.reader import read_path
from plugshare.validation.validator import MessageValidator, validate_entries

corpus = load(sys.argv[2])


class Export:
    def __init__(self, council):
        self.council = council

    def export(self, *, council=None, types=None):
        return corpus.messages(council or self.council, types)


class Target(ApiContext):
    def client(self, council=None):
        return Export(council or self.councils[0])


start = time.perf_counter()
if sys.argv[1] == "validate":
    count = sum(1 for _ in validate_entries(read_path(str(corpus.directory / CORPUS)), MessageValidator()))
else:
    ctx = Target(councils=list(corpus.councils), types=tuple(MESSAGE_TYPES), corpus=corpus,
                 validator=MessageValidator())
    findings = [f for check in data.CHECKS for f in check.run(ctx)]
    assert not findings, findings[:3]
    count = ctx.cache[data.RECORDS].total
elapsed = time.perf_counter() - start
try:  # this process's own high-water mark: ru_maxrss would include the parent's, inherited through fork
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, elapsed, peak)
"""


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def generate_only(out: Path, employees: int) -> None:
    """The baseline for corpus generation: the same messages written as JSON lines, nothing else."""
    with open(out, "w", encoding="utf-8") as stream:
        for message in generate(2026, sizes_for(employees)):
            stream.write(json.dumps(message) + "\n")


def in_child(mode: str, directory: Path) -> tuple[int, float, int]:
    """(records, seconds, peak KiB) of validating or checking the corpus in ``directory`` in a fresh process."""
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(directory)], capture_output=True, text=True,
                         check=True)
    count, seconds, peak = out.stdout.split()
    return int(count), float(seconds), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=150, help="employees per council at 1x (default 150)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "1x", Path(tmp) / "4x"
        baseline = min(timed(lambda: generate_only(Path(tmp) / "plain.ndjson", args.employees)) for _ in range(2))
        made = min(timed(lambda: write_corpus(small, employees=args.employees)) for _ in range(2))
        write_corpus(large, employees=4 * args.employees)
        messages = sum(sum(per_type.values()) for per_type in
                       json.loads((small / "expected.json").read_text())["counts"].values())
        size = (small / CORPUS).stat().st_size
        print(f"corpus (1x): {messages:,} messages, {size / 1e6:.1f} MB, employees {args.employees} per council")
        print(f"generate + write JSON lines (baseline): {baseline:.2f}s")
        print(f"write_corpus: {made:.2f}s; ratio write_corpus / baseline: {made / baseline:.2f}")

        validated, validate_s, _ = in_child("validate", small)
        checked, checks_s, peak_1x = in_child("checks", small)
        checked_4x, _, peak_4x = in_child("checks", large)
        print(f"validate the corpus file (baseline): {validate_s:.2f}s = {validated / validate_s:,.0f} messages/s")
        print(f"data checks over every council's export: {checks_s:.2f}s = {checked / checks_s:,.0f} records/s")
        print(f"ratio data checks / validate: {checks_s / validate_s:.2f}")
        print(f"peak memory of the data checks: 1x {peak_1x / 1024:.0f} MiB ({checked:,} records), "
              f"4x {peak_4x / 1024:.0f} MiB ({checked_4x:,} records); ratio {peak_4x / peak_1x:.2f} "
              "(4.0 would mean every record is held)")


if __name__ == "__main__":
    main()
