"""The conformance suite's core: the check registry, profiles, coverage, verdict and exit rules, the command.

Checks and targets here are fakes: the real API and adapter checks have their own tests. A local check is
added the way a council would add one, as a plugin of the host.
"""

from __future__ import annotations

import io
import json
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugshare import cli
from plugshare.conformance import coverage, registry, runner, suite
from plugshare.conformance import prepare as prepare_module
from plugshare.conformance.context import ApiContext, RunContext
from plugshare.conformance.model import (
    Check,
    CheckNotApplicable,
    CheckSkipped,
    Finding,
    Verdict,
)
from plugshare.conformance.profiles import (
    ProfileError,
    choose,
    load_profiles,
    parse_profile,
    types_under_test,
)
from plugshare.hookspecs import hookimpl
from plugshare.plugins import make_host
from plugshare.standard.requirements import catalogue

ROOT = Path(__file__).resolve().parents[1]
NINO = "QQ123456C"
TOKEN = "psk_abc123_s3cretsecretsecret"


def passes(ctx):
    return []


def make_check(id="PSC-XKC-001", *, level="MUST", run=passes, requirements=("PS-API-001",),
               profiles=("api-core",), targets=("api",), needs=(), title=None) -> Check:
    return Check(id=id, title=title or f"fake check {id}", level=level, requirements=requirements,
                 profiles=profiles, targets=frozenset(targets), run=run, needs=needs)


def plugin(name: str, *checks_or_items):
    """A plugin module registering the given checks, as a council's package would."""
    module = types.ModuleType(name)

    @hookimpl
    def plugshare_register_checks(register):
        for item in checks_or_items:
            register(item)

    module.plugshare_register_checks = plugshare_register_checks
    return module


def host_with(*plugins):
    return make_host(load_entry_points=False, extra_plugins=plugins)


def context(**kwargs) -> RunContext:
    profiles = load_profiles()
    return ApiContext(base_url="http://target.invalid/", councils=["E07000991"],
                      profiles=[profiles["api-core"]], **kwargs)


# --- registry -----------------------------------------------------------------------------


def test_a_local_check_is_registered_with_its_plugin_as_source():
    found = registry.checks(host_with(plugin("kent_checks", make_check("PSC-XKC-001", requirements=("X-KC-1",)))))
    assert found["PSC-XKC-001"].source == "kent_checks"
    assert found["PSC-XKC-001"].requirements == ("X-KC-1",)
    assert list(found) == sorted(found)


def test_two_checks_with_one_id_name_both_plugins():
    host = host_with(plugin("first_council", make_check("PSC-XKC-001")),
                     plugin("second_council", make_check("PSC-XKC-001")))
    with pytest.raises(registry.RegistryError) as raised:
        registry.checks(host)
    assert "PSC-XKC-001" in str(raised.value)
    assert "first_council" in str(raised.value) and "second_council" in str(raised.value)


def test_a_local_check_cannot_take_a_built_in_id():
    builtin = registry.checks(make_host(load_entry_points=False))
    assert builtin, "the built-in checks did not register"
    taken = next(iter(builtin))
    with pytest.raises(registry.RegistryError, match=f"{taken}.*plugshare.conformance.builtin.*impostor"):
        registry.checks(host_with(plugin("impostor", make_check(taken))))


def test_a_retired_id_is_refused(monkeypatch):
    monkeypatch.setitem(registry.RETIRED, "PSC-XKC-007", "merged into PSC-XKC-001")
    with pytest.raises(registry.RegistryError, match="PSC-XKC-007.*retired.*merged into PSC-XKC-001"):
        registry.checks(host_with(plugin("old_council", make_check("PSC-XKC-007"))))


@pytest.mark.parametrize("bad_id", ["PSC-1", "psc-xkc-001", "PSC-XKC-01", "XYZ-ABC-001", "PSC-TOOLONG-001"])
def test_an_id_not_in_the_stable_form_is_refused(bad_id):
    with pytest.raises(registry.RegistryError, match="PSC-AREA-NNN"):
        registry.checks(host_with(plugin("sloppy", make_check(bad_id))))


def test_an_unknown_requirement_is_refused():
    with pytest.raises(registry.RegistryError, match="no requirement PS-API-999.*'X-'"):
        registry.checks(host_with(plugin("sloppy", make_check(requirements=("PS-API-999",)))))


def test_an_unknown_profile_is_refused():
    with pytest.raises(registry.RegistryError, match="no profile hr-extended"):
        registry.checks(host_with(plugin("sloppy", make_check(profiles=("hr-extended",)))))


@pytest.mark.parametrize("change, message", [
    ({"level": "MAY"}, "level must be MUST or SHOULD"),
    ({"targets": ("api", "mainframe")}, "targets must be among"),
    ({"requirements": ()}, "verifies no requirement"),
    ({"profiles": ()}, "belongs to no profile"),
])
def test_other_malformed_checks_are_refused(change, message):
    with pytest.raises(registry.RegistryError, match=message):
        registry.checks(host_with(plugin("sloppy", make_check(**change))))


def test_something_that_is_not_a_check_is_refused():
    with pytest.raises(registry.RegistryError, match="'sloppy'.*not a plugshare.conformance.model.Check"):
        registry.checks(host_with(plugin("sloppy", {"id": "PSC-XKC-001"})))


def test_a_local_check_cannot_take_a_built_in_area():
    """A built-in area's next number is kept for the built-in checks, so adding one never collides."""
    builtin = registry.checks(make_host(load_entry_points=False))
    area = registry.area(next(iter(builtin)))
    with pytest.raises(registry.RegistryError, match=f"'squatter'.*PSC-{area}-999.*area {area} is the built-in"):
        registry.checks(host_with(plugin("squatter", make_check(f"PSC-{area}-999"))))


@pytest.mark.parametrize("change, message", [
    ({"requirements": "PS-API-001"}, r"requirements must be a tuple.*write \('PS-API-001',\)"),
    ({"profiles": "api-core"}, "profiles must be a tuple"),
    ({"needs": ("records:hr.person", "")}, "needs must be a tuple of non-empty strings"),
    ({"targets": "api"}, r"targets must be a set.*frozenset\(\{'api'\}\)"),
])
def test_a_single_string_where_a_tuple_belongs_is_refused(change, message):
    check = make_check()
    check = Check(**{**{f: getattr(check, f) for f in ("id", "title", "level", "requirements", "profiles",
                                                        "targets", "run", "needs")}, **change})
    with pytest.raises(registry.RegistryError, match=message):
        registry.checks(host_with(plugin("sloppy", check)))


def test_applicable_keeps_the_checks_of_a_chosen_profile_for_the_target_kind():
    all_checks = {c.id: c for c in (make_check("PSC-XKC-001", profiles=("api-core",), targets=("api",)),
                                    make_check("PSC-XKC-002", profiles=("hr-core",), targets=("api", "adapter")),
                                    make_check("PSC-XKC-003", profiles=("portability",), targets=("adapter",)))}
    assert [c.id for c in registry.applicable(all_checks, ["api-core", "hr-core"], "api")] == [
        "PSC-XKC-001", "PSC-XKC-002"]
    assert [c.id for c in registry.applicable(all_checks, ["hr-core", "portability"], "adapter")] == [
        "PSC-XKC-002", "PSC-XKC-003"]


# --- profiles -----------------------------------------------------------------------------


def test_the_published_profiles_load():
    profiles = load_profiles()
    assert list(profiles) == sorted(["hr-core", "payroll-core", "council-tax", "business-rates", "api-core",
                                     "portability"])
    assert "revenues.payment" in profiles["council-tax"].message_types
    assert "revenues.payment" in profiles["business-rates"].message_types
    assert profiles["api-core"].targets == ("api",)
    assert profiles["api-core"].message_types == ()
    assert set(profiles["portability"].features) == {"bulk-import", "bulk-export"}


def _profile_json(**change):
    data = json.loads((ROOT / "conformance" / "profiles" / "hr-core.json").read_text())
    data.update(change)
    return data


@pytest.mark.parametrize("change, message", [
    ({"message_types": ["hr.person", "hr.pet"]}, "message_types names what the standard does not have: hr.pet"),
    ({"operations": ["list", "purge"]}, "operations names .*purge"),
    ({"features": ["telepathy"]}, "features names .*telepathy"),
    ({"targets": []}, "at least one"),
    ({"targets": ["fax"]}, "targets names .*fax"),
    ({"colour": "blue"}, "unknown fields colour"),
])
def test_a_profile_naming_what_the_standard_lacks_is_an_error(change, message):
    with pytest.raises(ProfileError, match=message):
        parse_profile(_profile_json(**change), "hr-core.json")


def test_a_profile_file_whose_id_differs_from_its_name_is_an_error(tmp_path):
    (tmp_path / "hr-basic.json").write_text(json.dumps(_profile_json()))
    with pytest.raises(ProfileError, match="differs from its file name"):
        load_profiles(tmp_path)


def test_choosing_profiles():
    assert [p.id for p in choose(["hr-core", "api-core", "hr-core"], "api")] == ["hr-core", "api-core"]
    with pytest.raises(ProfileError, match="no profile 'hr-coar'; profiles: .*hr-core"):
        choose(["hr-coar"], "api")
    with pytest.raises(ProfileError, match="'api-core' is for api targets, not an adapter target"):
        choose(["hr-core", "api-core"], "adapter")
    with pytest.raises(ProfileError, match="at least one profile"):
        choose([], "api")


def test_types_under_test_are_the_profiles_or_else_the_declared():
    profiles = load_profiles()
    hr, api, portability = profiles["hr-core"], profiles["api-core"], profiles["portability"]
    assert types_under_test([hr, api]) == tuple(sorted(hr.message_types))
    assert types_under_test([api, portability], ["payroll.payslip", "hr.person"]) == ("hr.person", "payroll.payslip")
    assert types_under_test([hr, portability], ["hr.person", "payroll.payslip"], restrict=True) == ("hr.person",)


# --- verdicts -----------------------------------------------------------------------------


def crashes(ctx):
    raise KeyError("data")


def test_each_verdict_by_its_rule():
    def fails(ctx):
        return [Finding("the list repeated a record", expected="each id once", actual="hr-1 twice")]

    def skipped(ctx):
        raise CheckSkipped("the target holds no hr.absence records")

    def not_applicable(ctx):
        raise CheckNotApplicable("the target is read-only")

    checks = [make_check("PSC-XKC-001"), make_check("PSC-XKC-002", run=fails),
              make_check("PSC-XKC-003", run=fails, level="SHOULD"), make_check("PSC-XKC-004", run=skipped),
              make_check("PSC-XKC-005", run=not_applicable), make_check("PSC-XKC-006", run=crashes),
              make_check("PSC-XKC-007")]
    report = runner.run(context(), checks)
    verdicts = {r.check.id: r.verdict for r in report.results}
    assert verdicts == {"PSC-XKC-001": Verdict.PASS, "PSC-XKC-002": Verdict.FAIL, "PSC-XKC-003": Verdict.WARNING,
                        "PSC-XKC-004": Verdict.SKIPPED, "PSC-XKC-005": Verdict.NOT_APPLICABLE,
                        "PSC-XKC-006": Verdict.ERROR, "PSC-XKC-007": Verdict.PASS}
    by_id = {r.check.id: r for r in report.results}
    assert by_id["PSC-XKC-002"].findings[0].actual == "hr-1 twice"
    assert "the list repeated a record" in by_id["PSC-XKC-002"].summary
    assert by_id["PSC-XKC-004"].reason == "the target holds no hr.absence records"
    assert by_id["PSC-XKC-005"].reason == "the target is read-only"
    assert by_id["PSC-XKC-006"].reason == "KeyError: 'data'"
    assert all(r.duration_ms >= 0 for r in report.results)


def test_a_check_returning_something_else_than_findings_is_an_error():
    report = runner.run(context(), [make_check(run=lambda ctx: "all good")])
    assert report.results[0].verdict is Verdict.ERROR
    assert "not a list of findings" in report.results[0].reason


def test_a_timeout_is_an_error_that_names_the_timeout():
    import httpx

    def slow(ctx):
        raise httpx.ReadTimeout("timed out")

    ctx = context()
    ctx.settings.timeout_seconds = 2.5
    result = runner.run(ctx, [make_check(run=slow)]).results[0]
    assert result.verdict is Verdict.ERROR
    assert "within 2.5 s" in result.reason and "--timeout" in result.reason


def test_an_unmet_need_is_skipped_naming_what_is_missing():
    ran = []
    check = make_check(needs=("records:payroll.payslip",), run=lambda ctx: ran.append(1) or [])
    ctx = context(readiness=[{"check": "PSC-XKC-001", "need": "records:payroll.payslip", "met": False,
                              "detail": "the target holds no payroll.payslip records for E07000991"}])
    result = runner.run(ctx, [check]).results[0]
    assert result.verdict is Verdict.SKIPPED and not ran
    assert "no payroll.payslip records for E07000991" in result.reason
    assert runner.exit_code(runner.run(ctx, [check])) == 1


def test_evidence_and_errors_are_masked():
    def leaks(ctx):
        return [Finding(f"record of {NINO} sent with Bearer {TOKEN}", expected=NINO, actual=TOKEN)]

    def crashes_leaking(ctx):
        raise ValueError(f"bad token {TOKEN} for {NINO}")

    report = runner.run(context(), [make_check("PSC-XKC-001", run=leaks),
                                    make_check("PSC-XKC-002", run=crashes_leaking)])
    text = json.dumps([r.as_dict() for r in report.results])
    assert NINO not in text and TOKEN not in text and "s3cret" not in text
    assert report.results[1].verdict is Verdict.ERROR


def test_checks_that_look_at_every_exchange_run_last():
    order = []

    def note(name):
        return lambda ctx: order.append(name) or []

    checks = [make_check("PSC-XKC-003", run=note("c")), make_check("PSC-XKC-001", run=note("a"), needs=("exchanges",)),
              make_check("PSC-XKC-002", run=note("b"))]
    report = runner.run(context(), checks)
    assert order == ["b", "c", "a"]
    assert [r.check.id for r in report.results] == ["PSC-XKC-002", "PSC-XKC-003", "PSC-XKC-001"]


def test_the_report_names_the_target_and_never_its_token():
    ctx = context(declaration={"product": {"name": "x"}})
    report = runner.run(ctx, [make_check()])
    assert report.target == {"kind": "api", "url": "http://target.invalid/", "councils": ["E07000991"]}
    assert report.profiles == ["api-core"]
    assert report.declaration_sha256 and len(report.declaration_sha256) == 64
    assert report.complete and report.selected == []


# --- exit status ----------------------------------------------------------------------------


def _exit(*checks, only=()):
    return runner.exit_code(runner.run(context(), list(checks), only=only))


def test_exit_status_rules():
    def fails(ctx):
        return [Finding("wrong")]

    def skipped(ctx):
        raise CheckSkipped("no data")

    def not_applicable(ctx):
        raise CheckNotApplicable("read-only")

    assert _exit(make_check("PSC-XKC-001"), make_check("PSC-XKC-002", run=not_applicable)) == 0
    assert _exit(make_check("PSC-XKC-001"), make_check("PSC-XKC-002", run=fails, level="SHOULD")) == 0
    assert _exit(make_check("PSC-XKC-001"), make_check("PSC-XKC-002", run=skipped, level="SHOULD")) == 0
    assert _exit(make_check("PSC-XKC-001"), make_check("PSC-XKC-002", run=skipped)) == 1
    assert _exit(make_check("PSC-XKC-001"), make_check("PSC-XKC-002", run=fails)) == 1
    assert _exit(make_check("PSC-XKC-001"), make_check("PSC-XKC-002", run=crashes)) == 1


def test_a_profile_whose_every_check_does_not_apply_does_not_conform():
    def not_applicable(ctx):
        raise CheckNotApplicable("the target is read-only")

    report = runner.run(context(), [make_check("PSC-XKC-001", run=not_applicable),
                                    make_check("PSC-XKC-002", level="SHOULD")])
    assert report.passed and report.complete and report.unshown_profiles == ["api-core"]
    assert report.overall == "does_not_conform" and runner.exit_code(report) == 1
    lines = runner.summary_lines(report)
    assert lines[0] == "DOES NOT CONFORM to api-core"
    assert any(line.startswith("  api-core: no required (MUST) check of it passed") for line in lines)
    assert _exit(make_check("PSC-XKC-001", run=not_applicable), make_check("PSC-XKC-002")) == 0


def test_each_chosen_profile_needs_a_must_check_that_passed():
    def not_applicable(ctx):
        raise CheckNotApplicable("the adapter writes nothing")

    profiles = load_profiles()
    ctx = ApiContext(base_url="http://target.invalid/", councils=["E07000991"],
                     profiles=[profiles["api-core"], profiles["portability"]])
    report = runner.run(ctx, [make_check("PSC-XKC-001"),
                              make_check("PSC-XKC-002", profiles=("portability",), run=not_applicable)])
    assert report.unshown_profiles == ["portability"] and runner.exit_code(report) == 1
    report = runner.run(ctx, [make_check("PSC-XKC-001", profiles=("api-core", "portability"))])
    assert report.unshown_profiles == [] and runner.exit_code(report) == 0


def test_a_run_narrowed_by_only_is_not_complete():
    report = runner.run(context(), [make_check("PSC-XKC-001"), make_check("PSC-XKC-002")], only=["PSC-XKC-002"])
    assert [r.check.id for r in report.results] == ["PSC-XKC-002"]
    assert report.selected == ["PSC-XKC-002"] and not report.complete
    assert report.passed and runner.exit_code(report) == 1
    assert runner.summary_lines(report)[0].startswith("PARTIAL RUN")


def test_only_naming_a_check_the_run_lacks_is_an_error():
    with pytest.raises(runner.SelectionError, match="no check PSC-XKC-009.*PSC-XKC-001"):
        runner.run(context(), [make_check("PSC-XKC-001")], only=["PSC-XKC-009"])


def test_only_naming_a_check_of_another_profile_says_where_it_belongs():
    known = {"PSC-XKC-001": make_check("PSC-XKC-001"),
             "PSC-XKC-002": make_check("PSC-XKC-002", profiles=("portability",), targets=("adapter",))}
    with pytest.raises(runner.SelectionError, match="PSC-XKC-002 belongs to portability for adapter targets"):
        runner.select([known["PSC-XKC-001"]], ["PSC-XKC-002"], known=known)
    with pytest.raises(runner.SelectionError, match="no check PSC-XKC-009 is installed"):
        runner.select([known["PSC-XKC-001"]], ["PSC-XKC-009"], known=known)


def test_progress_lines_are_masked():
    stream = io.StringIO()
    runner.run(context(), [make_check(title=f"records of {NINO} hold an address")],
               progress=runner.ProgressDisplay(stream))
    assert NINO not in stream.getvalue() and "QQ*******" in stream.getvalue()


@pytest.mark.parametrize("asked, terminal, shown", [
    (None, True, True), (None, False, False), (True, False, True), (False, True, False)])
def test_progress_is_shown_on_a_terminal_unless_asked_otherwise(monkeypatch, asked, terminal, shown):
    class Stream(io.StringIO):
        def isatty(self):
            return terminal

    monkeypatch.setattr(cli.sys, "stderr", Stream())
    assert isinstance(cli._progress_display(asked), runner.ProgressDisplay) is shown


def test_rerun_failed_takes_the_failed_erred_and_skipped_checks():
    previous = {"results": [{"id": "PSC-XKC-001", "verdict": "pass"}, {"id": "PSC-XKC-002", "verdict": "fail"},
                            {"id": "PSC-XKC-003", "verdict": "warning"}, {"id": "PSC-XKC-004", "verdict": "error"},
                            {"id": "PSC-XKC-005", "verdict": "skipped"},
                            {"id": "PSC-XKC-006", "verdict": "not_applicable"}]}
    assert runner.rerun_selection(previous) == ["PSC-XKC-002", "PSC-XKC-004", "PSC-XKC-005"]
    with pytest.raises(runner.SelectionError):
        runner.rerun_selection({"verdict": "fail"})


def test_progress_shows_one_line_per_check():
    stream = io.StringIO()
    runner.run(context(), [make_check("PSC-XKC-001", title="paging returns every record exactly once"),
                           make_check("PSC-XKC-002", run=crashes)], progress=runner.ProgressDisplay(stream))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[1/2] PSC-XKC-001  pass ") and "paging returns every record exactly once (" in lines[0]
    assert lines[1].startswith("[2/2] PSC-XKC-002  ERROR")


# --- coverage -----------------------------------------------------------------------------


def test_every_must_requirement_is_verified_or_explained():
    checks = registry.checks(make_host(load_entry_points=False))
    rows = coverage.coverage(checks.values())
    assert [r["requirement"] for r in rows][:len(catalogue())] == [r.id for r in catalogue()]
    assert coverage.gaps(rows) == []


def test_a_gap_in_coverage_is_found():
    untested = {"PS-API-017": "binds clients", "PS-NOPE-001": "no such"}
    rows = coverage.coverage([make_check(requirements=("PS-API-001", "PS-API-017"))], untested)
    by_id = {r["requirement"]: r for r in rows}
    assert by_id["PS-API-001"]["checks"] == ["PSC-XKC-001"] and by_id["PS-API-001"]["reason"] is None
    problems = coverage.gaps(rows, untested)
    assert "PS-API-002 (MUST) is verified by no check and untested.json gives no reason" in problems
    assert any("PS-NOPE-001, which the standard does not have" in p for p in problems)
    assert any("PS-API-017, which PSC-XKC-001 verifies" in p for p in problems)


def test_local_requirements_follow_the_catalogue():
    rows = coverage.coverage([make_check(requirements=("X-KC-1",), level="SHOULD")], {})
    assert rows[-1] == {"requirement": "X-KC-1", "level": "SHOULD", "text": None, "checks": ["PSC-XKC-001"],
                        "reason": None}


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def invoke(monkeypatch):
    monkeypatch.setenv("PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD", "1")

    def invoke(*args):
        return CliRunner().invoke(cli.main, ["conformance", *args])

    return invoke


@pytest.mark.parametrize("args, message", [
    ([], "give exactly one of --target URL"),
    (["--target", "http://x", "--adapter", "hr-csv", "--council", "E07000991", "--token", "t"],
     "got --target and --adapter"),
    (["--target", "http://x", "--token", "t"], "needs at least one --council"),
    (["--target", "http://x", "--council", "E07000991"], "needs --token"),
    (["--target", "http://x", "--council", "E07000991", "--council", "E07000992", "--token", "a", "--token", "b",
      "--token", "c"], "3 tokens for 2 councils"),
    (["--target", "http://x", "--council", "X1", "--token", "t"], "--council: "),
    (["--target", "http://x", "--council", "E07000991", "--council", "E07000991", "--token", "a", "--token", "b",
      "--profile", "api-core"], "--council E07000991 is given twice"),
    (["--target", "http://x", "--council", "E07000991", "--token", "t", "--profile", "hr-coar"],
     "no profile 'hr-coar'"),
    (["--adapter", "hr-csv", "--profile", "api-core"], "'api-core' is for api targets, not an adapter target"),
    (["--target", "http://x", "--council", "E07000991", "--token", "t"], "choose at least one profile"),
    (["--target", "http://x", "--council", "E07000991", "--token", "t", "--profile", "api-core", "--only",
      "PSC-NOPE-001"], "no check PSC-NOPE-001"),
    (["--target", "http://x", "--council", "E07000991", "--adapter-option", "a=b", "--token", "t"],
     "--adapter-option goes with --adapter"),
    (["--config", "missing.yaml"], "the config cannot be read"),
])
def test_usage_errors_exit_2_with_a_clear_message(invoke, tmp_path, args, message):
    result = invoke("run", *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("config, message", [
    ("target: ftp://x\ncouncils: [{code: E07000991, token: t}]\n", "target must be the API's URL"),
    ("target: http://x\ncouncils: []\n", "councils must list at least one"),
    ("target: http://x\ncouncils: [{code: E07000991}]\n", "needs either token or token_env"),
    ("target: http://x\ncouncils: [{code: E07000991, token_env: PLUGSHARE_TEST_NO_SUCH_VAR}]\n",
     "PLUGSHARE_TEST_NO_SUCH_VAR is not set"),
    ("target: http://x\ncouncils: [{code: E07000991, token: t}]\nretries: -1\n", "retries must be"),
    ("target: http://x\ncouncils: [{code: E07000991, token: t}]\ncolour: blue\n", "unknown settings colour"),
    ("target: [unclosed\n", "the config cannot be read"),
])
def test_a_wrong_config_exits_2_naming_the_problem(invoke, tmp_path, monkeypatch, config, message):
    monkeypatch.delenv("PLUGSHARE_TEST_NO_SUCH_VAR", raising=False)
    path = tmp_path / "conformance.yaml"
    path.write_text(config)
    result = invoke("run", "--config", str(path), "--profile", "api-core", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.output


class FakeTarget(ApiContext):
    """A target that needs no server: the checks given to it decide everything."""

    closed = False

    def close(self) -> None:
        FakeTarget.closed = True


@pytest.fixture
def fake_target(monkeypatch):
    """`conformance run --target` wired to a fake target and a council's plugin of local checks."""
    opened: list[dict] = []
    plugins: list = []

    def open_target(asked, the_plan, host=None):
        types = types_under_test(the_plan.profiles)
        opened.append({"url": asked.target_url, "councils": asked.councils, "timeout": asked.timeout,
                       "retries": asked.retries, "types": types})
        ctx = FakeTarget(base_url=asked.target_url, councils=[code for code, _ in asked.councils],
                         profiles=the_plan.profiles, types=types)
        ctx.settings.timeout_seconds, ctx.settings.retries = asked.timeout, asked.retries
        return ctx

    monkeypatch.setattr(suite, "open_target", open_target)
    monkeypatch.setattr(prepare_module, "prepare", lambda ctx, checks: [])
    monkeypatch.setattr(cli, "_host", lambda: make_host(load_entry_points=False, extra_plugins=tuple(plugins)))
    return types.SimpleNamespace(opened=opened, plugins=plugins)





def _run_args(tmp_path, *extra):
    return ["run", "--target", "http://fake.invalid", "--council", "E07000991", "--token", TOKEN,
            "--profile", "api-core", "--out", str(tmp_path / "out"), *extra]


def test_a_local_check_runs_and_appears_in_the_report(invoke, fake_target, tmp_path):
    calls = []
    fake_target.plugins.append(plugin("kent_checks", make_check(
        "PSC-XKC-001", requirements=("X-KC-1",), title="Kent's own check",
        run=lambda ctx: calls.append(ctx.council) or [Finding("Kent wants more")])))
    result = invoke(*_run_args(tmp_path, "--only", "PSC-XKC-001"))
    assert calls == ["E07000991"]
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    entry = next(r for r in report["results"] if r["id"] == "PSC-XKC-001")
    assert entry["verdict"] == "fail" and entry["findings"][0]["message"] == "Kent wants more"
    assert TOKEN not in (tmp_path / "out" / "report.json").read_text()
    assert TOKEN not in result.output
    assert FakeTarget.closed


def test_the_command_exits_0_only_for_a_complete_passing_run(invoke, fake_target, tmp_path, monkeypatch):
    fake_target.plugins.append(plugin("all_pass", make_check("PSC-XKC-001"), make_check(
        "PSC-XKC-002", level="SHOULD", run=lambda ctx: [Finding("meh")])))
    monkeypatch.setattr(registry, "checks", _only_local)
    result = invoke(*_run_args(tmp_path, "--timeout", "7", "--retries", "1"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("CONFORMS to api-core")
    assert "warning PSC-XKC-002" in result.output
    assert fake_target.opened[0]["timeout"] == 7 and fake_target.opened[0]["retries"] == 1
    assert fake_target.opened[0]["councils"] == [("E07000991", TOKEN)]


def _only_local(host):
    """The registry with the built-in checks left out, so a test decides every verdict."""
    found = {}
    for item, info in host.contributions(registry.HOOK):
        if not info.builtin:
            found[item.id] = registry.validate(item, info, {"PS-API-001"}, set(load_profiles()))
    return found


def test_rerun_failed_runs_only_what_failed_erred_or_was_skipped(invoke, fake_target, tmp_path, monkeypatch):
    ran: list[str] = []

    def note(check_id, outcome):
        def run(ctx):
            ran.append(check_id)
            return outcome(ctx)
        return run

    def skip(ctx):
        raise CheckSkipped("no records")

    fake_target.plugins.append(plugin("mixed", make_check("PSC-XKC-001", run=note("PSC-XKC-001", passes)),
                                      make_check("PSC-XKC-002", run=note("PSC-XKC-002", lambda c: [Finding("x")])),
                                      make_check("PSC-XKC-003", run=note("PSC-XKC-003", crashes)),
                                      make_check("PSC-XKC-004", run=note("PSC-XKC-004", skip))))
    monkeypatch.setattr(registry, "checks", _only_local)
    first = invoke(*_run_args(tmp_path))
    assert first.exit_code == 1 and ran == ["PSC-XKC-001", "PSC-XKC-002", "PSC-XKC-003", "PSC-XKC-004"]
    ran.clear()
    previous = tmp_path / "first.json"
    (tmp_path / "out" / "report.json").rename(previous)
    second = invoke(*_run_args(tmp_path, "--rerun-failed", str(previous)))
    assert ran == ["PSC-XKC-002", "PSC-XKC-003", "PSC-XKC-004"], second.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report_selected(report) == ["PSC-XKC-002", "PSC-XKC-003", "PSC-XKC-004"]
    assert second.exit_code == 1 and "PARTIAL RUN" in second.output


def report_selected(report: dict) -> list[str]:
    return report.get("selected") or []


def test_rerun_failed_of_a_file_that_is_not_a_report_exits_2(invoke, tmp_path):
    bogus = tmp_path / "report.json"
    bogus.write_text("{not json")
    result = invoke(*_run_args(tmp_path, "--rerun-failed", str(bogus)))
    assert result.exit_code == 2 and "--rerun-failed" in result.output


def test_requirements_lists_every_requirement(invoke):
    result = invoke("requirements", "--format", "json")
    rows = json.loads(result.stdout)
    assert [r["requirement"] for r in rows][:len(catalogue())] == [r.id for r in catalogue()]
    assert all(r["checks"] or r["reason"] or r["level"] == "SHOULD" for r in rows)
    assert result.exit_code == 0, result.output
    text = invoke("requirements")
    assert "PS-API-011" in text.output


def test_profiles_and_checks_are_listed(invoke, fake_target):
    fake_target.plugins.append(plugin("kent_checks", make_check("PSC-XKC-001", title="Kent's own check")))
    profiles = invoke("profiles")
    assert profiles.exit_code == 0 and "portability" in profiles.output and "hr.absence" in profiles.output
    listed = invoke("checks", "--profile", "api-core")
    assert listed.exit_code == 0 and "PSC-XKC-001" in listed.output and "from kent_checks" in listed.output
    described = json.loads(invoke("checks", "--format", "json").output)
    assert {"id": "PSC-XKC-001", "source": "kent_checks"}.items() <= next(
        c for c in described if c["id"] == "PSC-XKC-001").items()
    assert invoke("checks", "--profile", "nope").exit_code == 2


def test_the_readme_example_of_a_local_check_works():
    text = (ROOT / "conformance" / "README.md").read_text()
    source = text.split("```python\n", 1)[1].split("```", 1)[0]
    module = types.ModuleType("my_council_checks")
    exec(compile(source, "README.md", "exec"), module.__dict__)
    found = registry.checks(host_with(module))
    check = found["PSC-XKC-001"]
    assert check.source == "my_council_checks" and check.level == "SHOULD"

    people = [{"data": {"id": "E07000991-p1", "address": {"postcode": "PE13 9UE"}}}, {"data": {"id": "E07000991-p2"}}]

    class Listing(ApiContext):
        def client(self, council=None):
            return types.SimpleNamespace(list=lambda message_type: iter(people))

    ctx = Listing(councils=["E07000991"], profiles=[load_profiles()["hr-core"]])
    result = runner.run(ctx, [check]).results[0]
    assert result.verdict is Verdict.WARNING
    assert [f.message for f in result.findings] == ["E07000991-p2 has no address"]


# --- end to end -----------------------------------------------------------------------------


def test_the_reference_server_conforms_end_to_end(invoke, tmp_path):
    """The whole suite through the command against the reference server, then a narrowed rerun of one check."""
    from plugshare.api.app import make_app
    from plugshare.api.server import running
    from plugshare.api.store import open_store
    from plugshare.api.tokens import create_token

    store = open_store(":memory:")
    a, b = "E07000991", "E07000992"
    tokens = {a: create_token(store, [a]), b: create_token(store, [b])}
    out = tmp_path / "out"
    with running(make_app(store)) as where:
        result = invoke("run", "--target", where.url, "--council", a, "--token", tokens[a], "--council", b,
                        "--token", tokens[b], "--profile", "hr-core", "--profile", "api-core", "--profile",
                        "portability", "--out", str(out), "--timeout", "20", "--progress")
        assert result.exit_code == 0, result.output
        assert "CONFORMS to hr-core, api-core, portability" in result.stdout
        report = json.loads((out / "report.json").read_text())
        ran = {r["id"] for r in report["results"]}
        assert {"PSC-CAP-001", "PSC-PAG-001", "PSC-TEN-001", "PSC-SCH-001", "PSC-SCH-002", "PSC-EXP-002"} <= ran
        assert all(r["verdict"] == "pass" for r in report["results"])
        assert report["complete"] and report["settings"]["timeout_seconds"] == 20
        assert (out / "junit.xml").is_file() and (out / "report.html").is_file()
        assert result.output.count("] PSC-") == len(ran)  # one progress line per check
        written = "".join(p.read_text() for p in out.iterdir()) + result.output
        assert not any(token in written for token in tokens.values())

        narrowed = invoke("run", "--target", where.url, "--council", a, "--token", tokens[a], "--profile",
                          "hr-core", "--profile", "api-core", "--only", "PSC-PAG-001", "--out", str(tmp_path / "one"))
        assert narrowed.exit_code == 1, narrowed.output
        one = json.loads((tmp_path / "one" / "report.json").read_text())
        assert [r["id"] for r in one["results"]] == ["PSC-PAG-001"] and one["results"][0]["verdict"] == "pass"
        assert one["selected"] == ["PSC-PAG-001"] and not one["complete"]


def test_a_built_in_adapter_conforms_end_to_end(invoke, tmp_path):
    result = invoke("run", "--adapter", "hr-csv", "--profile", "hr-core", "--profile", "portability",
                    "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["target"]["kind"] == "adapter"
    assert {"PSC-ADP-001", "PSC-ADP-002", "PSC-SCH-002"} <= {r["id"] for r in report["results"]}
    assert not any(r["id"].startswith(("PSC-CAP", "PSC-TEN")) for r in report["results"])  # api checks not listed


def test_an_unreachable_target_exits_2(invoke, tmp_path):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = invoke("run", "--target", f"http://127.0.0.1:{port}", "--council", "E07000991", "--token", TOKEN,
                    "--profile", "api-core", "--timeout", "2", "--retries", "0", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert f"cannot reach the target at http://127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output and TOKEN not in result.output
    assert not (tmp_path / "out").exists()


def test_a_plugin_whose_registration_crashes_is_an_error_not_a_smaller_suite(invoke, fake_target):
    broken = types.ModuleType("broken_checks")

    @hookimpl
    def plugshare_register_checks(register):
        raise ImportError("no module named kent_helpers")

    broken.plugshare_register_checks = plugshare_register_checks
    with pytest.raises(registry.RegistryError, match="failed while registering its checks.*kent_helpers"):
        registry.checks(host_with(broken))
    fake_target.plugins.append(broken)
    result = invoke("checks")
    assert result.exit_code == 2 and "kent_helpers" in result.output and "Traceback" not in result.output


def test_the_corpus_command_writes_the_committed_corpus(invoke, tmp_path):
    result = invoke("corpus", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for name in ("corpus.ndjson", "invalid.ndjson", "expected.json"):
        assert (tmp_path / name).read_bytes() == (ROOT / "conformance" / "corpus" / name).read_bytes()
    counts = json.loads((tmp_path / "expected.json").read_text())["counts"]
    assert f"wrote {sum(sum(c.values()) for c in counts.values())} messages for 3 councils" in result.output


def test_a_config_file_names_target_councils_tokens_and_settings(invoke, fake_target, tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGSHARE_TEST_TOKEN_B", "psk_bbb_secondsecretsecret")
    fake_target.plugins.append(plugin("all_pass", make_check("PSC-XKC-001")))
    monkeypatch.setattr(registry, "checks", _only_local)
    config = tmp_path / "conformance.yaml"
    config.write_text(f"target: http://fake.invalid\ncouncils:\n  - {{code: E07000991, token: {TOKEN}}}\n"
                      "  - {code: E07000992, token_env: PLUGSHARE_TEST_TOKEN_B}\nprofiles: [api-core]\n"
                      "timeout: 90\nretries: 5\n")
    result = invoke("run", "--config", str(config), "--out", str(tmp_path / "out"), "--retries", "2")
    assert result.exit_code == 0, result.output
    opened = fake_target.opened[0]
    assert opened["councils"] == [("E07000991", TOKEN), ("E07000992", "psk_bbb_secondsecretsecret")]
    assert opened["url"] == "http://fake.invalid" and opened["timeout"] == 90 and opened["retries"] == 2
    written = (tmp_path / "out" / "report.json").read_text()
    assert "secondsecret" not in written and TOKEN not in written and "E07000992" in written


def test_rerun_failed_with_nothing_to_rerun_says_so(invoke, fake_target, tmp_path, monkeypatch):
    fake_target.plugins.append(plugin("all_pass", make_check("PSC-XKC-001")))
    monkeypatch.setattr(registry, "checks", _only_local)
    assert invoke(*_run_args(tmp_path)).exit_code == 0
    previous = tmp_path / "previous.json"
    (tmp_path / "out" / "report.json").rename(previous)
    again = invoke(*_run_args(tmp_path, "--rerun-failed", str(previous)))
    assert again.exit_code == 0 and "nothing to rerun" in again.output


def test_a_run_where_no_must_check_applies_does_not_conform(invoke, fake_target, tmp_path, monkeypatch):
    def not_applicable(ctx):
        raise CheckNotApplicable("the target is read-only")

    fake_target.plugins.append(plugin("vacuous", make_check("PSC-XKC-001", run=not_applicable)))
    monkeypatch.setattr(registry, "checks", _only_local)
    result = invoke(*_run_args(tmp_path))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("DOES NOT CONFORM to api-core")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["verdict"], report["exit_code"]) == ("does_not_conform", 1)
    assert "none of its required checks applied" in report["profile_summaries"][0]["reason"]


@pytest.mark.parametrize("adapter, profiles, message", [
    ("hr-rest", ["hr-core", "portability"], "the hr-rest adapter does not declare the profile portability; "
                                            "it declares hr-core"),
    ("bacs18", ["portability"], "the bacs18 adapter does not declare the profile portability; it declares "
                                "payroll-core"),
    ("hr-csv", ["payroll-core", "council-tax"], "does not declare the profiles payroll-core, council-tax; "
                                                "it declares hr-core, portability"),
])
def test_an_adapter_certifies_only_for_the_profiles_it_declares(invoke, tmp_path, adapter, profiles, message):
    args = [arg for profile in profiles for arg in ("--profile", profile)]
    result = invoke("run", "--adapter", adapter, *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.fixture
def failed_report(invoke, fake_target, tmp_path, monkeypatch):
    """A report.json of a run in which PSC-XKC-002 failed; the checks that ran are noted in ``ran``."""
    ran: list[str] = []

    def note(check_id, findings):
        return lambda ctx: ran.append(check_id) or findings

    fake_target.plugins.append(plugin("mixed", make_check("PSC-XKC-001", run=note("PSC-XKC-001", [])),
                                      make_check("PSC-XKC-002", run=note("PSC-XKC-002", [Finding("wrong")]))))
    monkeypatch.setattr(registry, "checks", _only_local)
    assert invoke(*_run_args(tmp_path)).exit_code == 1
    previous = tmp_path / "previous" / "report.json"
    previous.parent.mkdir()
    (tmp_path / "out" / "report.json").rename(previous)
    ran.clear()
    return types.SimpleNamespace(path=previous, ran=ran, document=json.loads(previous.read_text()))


def test_rerun_failed_takes_the_reports_profiles_when_none_is_given(invoke, failed_report, tmp_path):
    result = invoke("run", "--target", "http://fake.invalid", "--council", "E07000991", "--token", TOKEN,
                    "--rerun-failed", str(failed_report.path), "--out", str(tmp_path / "again"))
    assert failed_report.ran == ["PSC-XKC-002"] and result.exit_code == 1, result.output
    assert json.loads((tmp_path / "again" / "report.json").read_text())["profiles"] == ["api-core"]


@pytest.mark.parametrize("change, message", [
    ({"suite_version": "0.0.1"}, "written by a run of suite version 0.0.1, and this is suite version"),
    ({"standard_version": "0.9.0"}, "written by a run of standard version 0.9.0, and this is standard version"),
    ({"target": {"kind": "adapter", "adapter": "hr-csv", "options": []}},
     "the report is of a run against an adapter target, and this run is against an api target"),
])
def test_rerun_failed_refuses_a_report_of_another_version_or_kind(invoke, failed_report, tmp_path, change, message):
    failed_report.path.write_text(json.dumps({**failed_report.document, **change}))
    result = invoke(*_run_args(tmp_path, "--rerun-failed", str(failed_report.path)))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert failed_report.ran == []


def test_rerun_failed_never_overwrites_the_report_it_reruns(invoke, failed_report, tmp_path):
    before = failed_report.path.read_text()
    result = invoke("run", "--target", "http://fake.invalid", "--council", "E07000991", "--token", TOKEN,
                    "--rerun-failed", str(failed_report.path), "--out", str(failed_report.path.parent))
    assert result.exit_code == 2 and "would replace that report with a partial one" in result.output
    assert failed_report.path.read_text() == before and failed_report.ran == []


def test_an_out_that_cannot_hold_the_reports_is_refused_before_the_run(invoke, fake_target, tmp_path):
    (tmp_path / "taken").write_text("a file")
    result = invoke("run", "--target", "http://fake.invalid", "--council", "E07000991", "--token", TOKEN,
                    "--profile", "api-core", "--out", str(tmp_path / "taken" / "reports"))
    assert result.exit_code == 2 and "is a file, not a directory" in result.output
    assert fake_target.opened == []


def test_a_token_of_any_form_is_masked_everywhere(invoke, fake_target, tmp_path, monkeypatch):
    """A supplier's tokens need not look like plugshare's: the ones given to the run are masked by value."""
    token = "eyJhbGciOiJIUzI1NiJ9.c3VwcGxpZXItc2VjcmV0"
    fake_target.plugins.append(plugin("echo", make_check("PSC-XKC-001", run=lambda ctx: [
        Finding(f"the server echoed {token} in a problem", expected="no token", actual=token)])))
    monkeypatch.setattr(registry, "checks", _only_local)
    result = invoke("run", "--target", "http://fake.invalid", "--council", "E07000991", "--token", token,
                    "--profile", "api-core", "--out", str(tmp_path / "out"), "--progress")
    assert result.exit_code == 1, result.output
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    assert token not in written and token not in result.output
    assert "the server echoed [token]" in result.output


def test_a_target_that_cannot_be_prepared_exits_2_without_a_traceback(invoke, fake_target, tmp_path, monkeypatch):
    from plugshare.conformance import prepare

    def crashes_preparing(ctx, checks):
        raise RuntimeError(f"corpus line for {NINO} broke")

    monkeypatch.setattr(prepare, "prepare", crashes_preparing)
    result = invoke(*_run_args(tmp_path))
    assert result.exit_code == 2, result.output
    assert "could not be prepared for the checks: RuntimeError" in result.output
    assert NINO not in result.output and "Traceback" not in result.output


def test_an_adapters_secret_options_are_masked(invoke, tmp_path):
    from plugshare.conformance.report import mask_text

    secret = "client-secret-9f8e7d6c5b4a"
    result = invoke("run", "--adapter", "hr-rest", "--adapter-option", f"client_secret={secret}",
                    "--adapter-option", "page_size=50", "--profile", "hr-core", "--out", str(tmp_path / "out"))
    assert result.exit_code in (0, 1), result.output
    assert mask_text(f"the vendor refused {secret}") == "the vendor refused [token]"
    assert mask_text("page_size 50") == "page_size 50"
    assert secret not in "".join(p.read_text() for p in (tmp_path / "out").iterdir())


def test_reports_that_cannot_be_written_still_show_the_verdict(invoke, fake_target, tmp_path, monkeypatch):
    from plugshare.conformance import report

    def disk_full(run_report, out):
        raise OSError(28, "No space left on device")

    fake_target.plugins.append(plugin("all_pass", make_check("PSC-XKC-001")))
    monkeypatch.setattr(registry, "checks", _only_local)
    monkeypatch.setattr(report, "write_reports", disk_full)
    result = invoke(*_run_args(tmp_path))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("CONFORMS to api-core")
    assert "the reports cannot be written (No space left on device)" in result.output
    assert "Traceback" not in result.output
