"""An installed plugshare works away from the repository: the wheel carries spec/."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def fresh_environment(work: Path) -> tuple[Path, Path]:
    """Build plugshare's wheel into ``work``, install it into a new virtual environment there.

    Returns the wheel and the environment's bin/. Other tests use it to install packages beside plugshare.
    """
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"),
                    str(ROOT)], check=True)
    wheel = next((work / "dist").glob("plugshare-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    subprocess.run([str(work / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                   check=True)
    return wheel, work / "venv" / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel, install it into a fresh virtual environment, return the wheel and that environment's bin/."""
    return fresh_environment(tmp_path_factory.mktemp("wheel"))


@pytest.mark.slow
def test_wheel_carries_the_spec_files(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "plugshare/_spec/schemas/common.json" in names
    assert "plugshare/_spec/requirements.json" in names
    assert any(n.startswith("plugshare/_spec/reference-data/") for n in names)
    assert "plugshare/scaffold_templates/plugin.py.tmpl" in names


@pytest.mark.slow
def test_installed_plugshare_validates_away_from_the_repository(installed, tmp_path):
    _, bin_dir = installed
    examples = ROOT / "spec" / "examples"
    shutil.copy(examples / "valid" / "payroll.payslip.json", tmp_path / "good.json")
    shutil.copy(examples / "invalid" / "PS-PAY-003--net-pay-off-by-a-penny.json", tmp_path / "bad.json")
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}

    good = subprocess.run([str(bin_dir / "plugshare"), "validate", "good.json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run([str(bin_dir / "plugshare"), "validate", "bad.json"], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "[PS-PAY-003]" in bad.stdout

    check = subprocess.run([str(bin_dir / "plugshare"), "spec", "export", "--check"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "site-packages" in check.stdout


@pytest.mark.slow
def test_installed_plugshare_scaffolds_an_adapter_package(installed, tmp_path):
    _, bin_dir = installed
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    made = subprocess.run([str(bin_dir / "plugshare"), "new-adapter", "acme-hr"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (tmp_path / "plugshare-acme-hr" / "src" / "plugshare_acme_hr" / "samples" / "org-units.csv").is_file()


@pytest.mark.slow
def test_installed_plugshare_converts_the_adapters_samples_away_from_the_repository(installed, tmp_path):
    _, bin_dir = installed
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    demo = subprocess.run([str(bin_dir / "plugshare"), "demo", "--out", "out"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    conversions = [line for line in demo.stdout.splitlines() if " -> " in line and "as expected" in line]
    assert {line.split("/")[0].strip() for line in conversions} == {
        "bacs18", "ctax-fixed", "hr-csv", "hr-rest", "rti-fps", "voa-list"}
    assert "UNEXPECTED" not in demo.stdout
