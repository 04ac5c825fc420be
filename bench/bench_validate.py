"""Benchmark: validating an NDJSON stream, against parsing the same stream with json.loads.

Reports the ratio (validation time / parse-only time on the same machine and file) and the
peak memory of validating 1x and 4x the input in a fresh process each, which should be about
equal because validation streams. Run: .venv/bin/python bench/bench_validate.py [--employees N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plugshare.synthetic import Sizes, generate

CHILD = """
import resource, sys
from plugshare.validation.reader import read_path
from plugshare.validation.validator import validate_entries
count = sum(1 for _ in validate_entries(read_path(sys.argv[1])))
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_stream(path: Path, employees: int, copies: int) -> int:
    lines = [json.dumps(m) for m in generate(seed=1, sizes=Sizes(employees=employees, dwellings=employees,
                                                                      hereditaments=max(1, employees // 4)))]
    with open(path, "w") as handle:
        for _ in range(copies):
            handle.write("\n".join(lines) + "\n")
    return len(lines) * copies


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def parse_only(path: Path) -> None:
    with open(path, "rb") as handle:
        for line in handle:
            json.loads(line)


def validate_in_child(path: Path) -> tuple[int, int, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    count, peak_kib = map(int, out.stdout.split())
    return count, peak_kib, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=200, help="employees (and dwellings) per council")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "1x.ndjson", Path(tmp) / "4x.ndjson"
        messages = write_stream(small, args.employees, 1)
        write_stream(large, args.employees, 4)
        baseline = min(timed(lambda: parse_only(small)) for _ in range(3))
        count_1x, peak_1x, elapsed_1x = validate_in_child(small)
        count_4x, peak_4x, _ = validate_in_child(large)
        print(f"messages (1x): {messages:,}; file {small.stat().st_size / 1e6:.1f} MB")
        print(f"parse only (baseline): {baseline:.3f}s = {messages / baseline:,.0f} messages/s")
        print(f"validate (1x, incl. process start): {elapsed_1x:.3f}s = {count_1x / elapsed_1x:,.0f} messages/s")
        print(f"ratio validate / parse: {elapsed_1x / baseline:.1f}")
        print(f"peak memory: 1x {peak_1x / 1024:.0f} MiB, 4x {peak_4x / 1024:.0f} MiB "
              f"(ratio {peak_4x / peak_1x:.2f}; 1.0 means flat)")


if __name__ == "__main__":
    main()
