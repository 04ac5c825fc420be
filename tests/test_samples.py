"""Every built-in adapter's samples convert through the standard as their manifest says."""

import dataclasses
import json

import pytest
from click.testing import CliRunner

from plugshare.cli import main
from plugshare.plugins import BUILTIN_PLUGINS, make_host
from plugshare.samples import SAMPLES_ROOT, SampleConversion, run_sample, sample_conversions

CONVERSIONS = list(sample_conversions())
HOST = make_host(load_entry_points=False)


def builtin_adapters():
    return [entry.adapter for entry in HOST.adapters().values() if entry.plugin.builtin]


def test_there_are_six_builtin_adapter_plugins_and_each_registers_an_adapter():
    adapter_plugins = [name for name in BUILTIN_PLUGINS if name.startswith("plugshare.adapters.")]
    assert len(adapter_plugins) == 6
    assert len(builtin_adapters()) == len(adapter_plugins), HOST.failures


@pytest.mark.parametrize("adapter", builtin_adapters(), ids=lambda a: a.key)
def test_each_builtin_adapter_has_a_good_sample_and_one_with_a_bad_record(adapter):
    names = {c.name: c for c in CONVERSIONS if c.adapter == adapter.key}
    assert {"good", "one-bad-record"} <= set(names), f"add them to {SAMPLES_ROOT / adapter.key / 'samples.json'}"
    assert names["good"].expect["quarantined"] == 0
    assert names["good"].expect["read"] == names["good"].expect["converted"]
    assert names["one-bad-record"].expect["quarantined"] == 1
    assert names["one-bad-record"].expect["read"] == names["one-bad-record"].expect["converted"] + 1
    if adapter.writes:
        assert "write" in names and names["write"].output_equals is not None
        assert names["write"].expect["quarantined"] == 0


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=lambda c: c.label)
def test_sample_converts_as_its_manifest_says(conversion, tmp_path):
    result = run_sample(conversion, tmp_path, HOST)
    assert result.ok, result.failures
    summary = result.summary
    assert summary.read == summary.converted + summary.quarantined
    entries = [json.loads(line) for line in result.quarantine.read_text().splitlines()]
    assert len(entries) == summary.quarantined
    for entry in entries:
        assert entry["record"] >= 1 and entry["source"] and entry["native"] is not None
        assert len(entry["reason"]) > 20 and "Traceback" not in entry["reason"]
    if conversion.to_key == "canonical":
        validated = CliRunner().invoke(main, ["validate", str(result.output)])
        assert validated.exit_code == 0, validated.output
    else:  # the canonical sample holds exactly what the format carries: nothing goes unwritten
        assert dict(summary.not_written) == {} and dict(summary.not_carried) == {}


def sample(**changes) -> SampleConversion:
    good = next(c for c in CONVERSIONS if c.label == "bacs18/good")
    return dataclasses.replace(good, **changes)


def test_a_manifest_option_no_adapter_declares_fails_the_sample_naming_it(tmp_path):
    result = run_sample(sample(options={"council": "E07000991", "as_att": "2025-09-30T17:00:00Z"}), tmp_path, HOST)
    assert not result.ok and result.summary is None
    (failure,) = result.failures
    assert "bacs18/good: the manifest gives the option as_att, which no adapter of the conversion declares" in failure


def test_a_manifest_naming_an_unknown_adapter_fails_the_sample_not_the_demo(tmp_path):
    result = run_sample(sample(from_key="bacs-18"), tmp_path, HOST)
    assert not result.ok and "no adapter 'bacs-18'" in result.failures[0]
    result = run_sample(sample(from_key="canonical", to_key="nonesuch"), tmp_path, HOST)
    assert not result.ok and "no adapter 'nonesuch'" in result.failures[0]
