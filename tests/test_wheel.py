"""A built wheel ships the study defaults: ``nasga run --task unet`` works outside the checkout.

The wheel is built from a clean copy of the sources (no stale ``build/``), installed with
``pip install --no-deps --target`` (its dependencies come from the current environment), and
run from a folder outside the checkout with ``PYTHONPATH`` on the install only; the test checks
that ``nasga`` is imported from the install, not from the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("nasga", "studies", "setup.cfg", "pyproject.toml", "README.md")


def _pip(*args: str, cwd: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", *args, "--no-deps", "--no-index",
                           "--disable-pip-version-check", "--quiet"], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools")
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "*.db", "*.log", "artifacts"))
        else:
            shutil.copy2(ROOT / name, src / name)
    _pip("wheel", "--no-build-isolation", "-w", str(base / "dist"), str(src), cwd=base)
    (found,) = (base / "dist").glob("nasga-*.whl")
    return found


def test_the_wheel_holds_every_module_and_study_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "nasga").rglob("*.py")}
    assert modules <= names, f"setup.cfg's packages miss {sorted(modules - names)}"
    studies = {f"nasga/studies/{p.name}" for p in (ROOT / "studies").glob("*.toml")}
    assert studies and studies <= names
    assert not any(n.startswith("studies/") for n in names)  # no top-level `studies` package


def test_installed_wheel_runs_the_default_unet_study(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _pip("install", "--target", str(site), str(wheel), cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    assert ROOT not in work.parents
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PYTHONSAFEPATH", None)
    where = subprocess.run(
        [sys.executable, "-c", "import nasga, nasga.search.studies as c; print(nasga.__file__); "
         "print(','.join(c.shipped_studies()))"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    file, studies = where.stdout.split()
    assert Path(file).is_relative_to(site), file  # the install, not the checkout
    assert studies.split(",") == sorted(p.stem for p in (ROOT / "studies").glob("*.toml"))
    db = tmp_path / "runs.db"
    proc = subprocess.run(
        [str(site / "bin" / "nasga"), "run", "--task", "unet", "--population", "2",
         "--generations", "0", "--set", "task.epochs=1", "--set", "task.max_train=4",
         "--set", "task.max_val=2", "--storage", f"sqlite:///{db}", "--quiet"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = optuna.load_study(study_name="unet", storage=f"sqlite:///{db}")
    assert len([t for t in study.trials if t.state == TrialState.COMPLETE]) == 2
    cfg = study.user_attrs["nasga_config"]
    # The shipped studies/unet.toml, not a fallback: depth 6, channels 16..128, photos at 64.
    assert cfg["space"] == {"depth": 6, "channels": [16, 32, 64, 128]}
    assert cfg["task"]["dataset"] == "photos" and cfg["task"]["image_size"] == 64
    # A shipped study is named from a folder without the file.
    named = subprocess.run(
        [str(site / "bin" / "nasga"), "run", "--study", "unet-facades", "--data-root",
         str(tmp_path / "missing")], cwd=work, env=env, capture_output=True, text=True,
        timeout=120)
    assert named.returncode == 2 and "task.data_root: missing folder" in named.stderr, named.stderr
