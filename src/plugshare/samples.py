"""The built-in adapters' sample conversions, as the demo and the tests run them.

Each built-in adapter keeps synthetic samples in ``adapters/samples/<key>/``
with a ``samples.json`` manifest: the conversions its samples make (from, to,
input, options) and what each must give (records read, converted and
quarantined; for a write, the native file the output must equal byte for
byte). Running them is the adapters' end-to-end check: every message goes
through the same validator as ``plugshare validate``. An input marked
``"serve": "odata"`` is a directory of API pages, served over real HTTP on a
loopback port for the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugshare.adapters.contract import AdapterError
from plugshare.adapters.hr_rest.samples import loopback_api
from plugshare.conversion import CANONICAL, CanonicalSource, ConversionSummary, Quarantine, convert
from plugshare.plugins import PluginError, PluginHost, make_host

SAMPLES_ROOT = Path(__file__).resolve().parent / "adapters" / "samples"
MANIFEST = "samples.json"


@dataclass(frozen=True)
class SampleConversion:
    """One conversion a manifest declares, with what it must give."""

    adapter: str
    name: str
    description: str
    from_key: str
    to_key: str
    input: Path
    options: dict[str, str]
    expect: dict[str, int]
    output_equals: Path | None = None
    serve: str | None = None

    @property
    def label(self) -> str:
        return f"{self.adapter}/{self.name}"

    @property
    def output_name(self) -> str:
        if self.to_key == CANONICAL:
            return f"{self.adapter}--{self.name}.ndjson"
        suffix = self.output_equals.suffix if self.output_equals and self.output_equals.is_file() else ""
        return f"{self.adapter}--{self.name}{suffix}"


@dataclass
class SampleResult:
    """A sample conversion run: its counts, where its output and quarantine went, and what did not hold."""

    conversion: SampleConversion
    summary: ConversionSummary | None
    output: Path
    quarantine: Path
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def sample_conversions(root: Path = SAMPLES_ROOT) -> Iterator[SampleConversion]:
    """Every conversion of every manifest under ``root``, adapters in name order."""
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        for item in data["conversions"]:
            yield SampleConversion(
                adapter=data["adapter"], name=item["name"], description=item.get("description", ""),
                from_key=item["from"], to_key=item["to"], input=manifest.parent / item["input"],
                options=dict(item.get("options", {})), expect=dict(item["expect"]),
                output_equals=manifest.parent / item["output_equals"] if item.get("output_equals") else None,
                serve=item.get("serve"))


def run_sample(conversion: SampleConversion, out_dir: Path, host: PluginHost | None = None) -> SampleResult:
    """Run one sample conversion into ``out_dir`` and check it against the manifest's expectations.

    What stops a conversion is a failure of the result, never an exception: an input, output or
    option an adapter cannot use, a manifest naming an adapter that is not registered, or an
    option that no adapter of the conversion declares (a typo such as ``as_att``).
    """
    host = host or make_host(load_entry_points=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / conversion.output_name
    quarantine = out_dir / f"{conversion.adapter}--{conversion.name}.quarantine.ndjson"
    result = SampleResult(conversion, None, output, quarantine)
    with ExitStack() as stack:
        source, options = str(conversion.input), dict(conversion.options)
        try:
            if conversion.serve == "odata":
                api = stack.enter_context(loopback_api(conversion.input))
                source, options = api.base_url, {**api.options(), **options}
            reader, writer = _adapters(host, conversion, options)
            with open(quarantine, "w", encoding="utf-8") as stream:
                result.summary = convert(reader or CanonicalSource(), source, writer, str(output),
                                         Quarantine(stream))
        except (AdapterError, PluginError) as exc:
            result.failures.append(f"the conversion stopped: {exc}")
            return result
    _check(result)
    return result


def _adapters(host: PluginHost, conversion: SampleConversion, options: dict[str, str]) -> tuple[Any, Any]:
    """The reader and the writer (None: canonical), each given the options it declares, as ``plugshare convert``
    gives them; an option no adapter of the conversion declares is an AdapterError naming it."""
    classes = [None if key == CANONICAL else host.adapter(key) for key in (conversion.from_key, conversion.to_key)]
    declared = {option.name for cls in classes if cls is not None for option in cls.options}
    unknown = sorted(set(options) - declared)
    if unknown:
        raise AdapterError(f"{conversion.label}: the manifest gives the option {', '.join(unknown)}, which no "
                           "adapter of the conversion declares (they declare: "
                           f"{', '.join(sorted(declared)) or 'none'})")
    made = [None if cls is None else cls({name: value for name, value in options.items()
                                          if name in {option.name for option in cls.options}}) for cls in classes]
    return made[0], made[1]


def _check(result: SampleResult) -> None:
    summary, conversion = result.summary, result.conversion
    assert summary is not None
    counts = {"read": summary.read, "converted": summary.converted, "quarantined": summary.quarantined}
    for name, expected in conversion.expect.items():
        if counts.get(name) != expected:
            result.failures.append(f"{name}: expected {expected}, got {counts.get(name)}")
    if conversion.output_equals is not None:
        result.failures.extend(_differences(result.output, conversion.output_equals))


def _differences(output: Path, expected: Path) -> list[str]:
    """How an output file, or a directory of files, differs byte for byte from the sample it must equal."""
    if not output.exists():
        return ["no output was written"]
    if expected.is_dir():
        made = {p.name for p in output.iterdir()} if output.is_dir() else set()
        wanted = {p.name for p in expected.iterdir()}
        found = [f"{name} is missing from the output" for name in sorted(wanted - made)]
        found += [f"{name} was not expected" for name in sorted(made - wanted)]
        return found + [f"{name} differs from {expected.name}/{name}" for name in sorted(made & wanted)
                        if (output / name).read_bytes() != (expected / name).read_bytes()]
    if output.is_dir() or output.read_bytes() != expected.read_bytes():
        return [f"the output differs from {expected.name}"]
    return []
