"""Every shipped study (``studies/*.toml``) starts from the command line, with tiny overrides.

A config that cannot start (validated before ``--data-root`` is applied, an image size its
space cannot take, a key its task does not know) fails here. Each case runs
``scripts/run_ga.py --study FILE`` as a user would, with ``--data-root`` on the shared datasets
where the study reads a real one (skipped, with the reason, where they are absent), and only
shrinks the budget: population 2, generation 0, one epoch, a few images, narrow channels.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasga.search.config import tomllib
from tests.helpers import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "run_ga.py"
STUDY_FILES = sorted((ROOT / "studies").glob("*.toml"))
FACADES = SHARED_DATA / "facades"
CIFAR10 = SHARED_DATA / "cifar10" / "cifar-10-batches-py"

# The real dataset of each task and the folder --data-root points at.
DATA = {"aligned": FACADES, "cifar10": CIFAR10}
TINY = {
    "unet": ["--set", "task.epochs=1", "--set", "task.max_train=2", "--set", "task.max_val=2",
             "--set", "task.batch_size=2", "--set", "task.ndf=8", "--set", "space.channels=[4,8]"],
    "genetic-cnn": ["--set", "task.epochs=1", "--set", "task.max_train=100",
                    "--set", "task.max_val=50"],
}


def run_ga(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def stored(db: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{db}")


def needs_data(path: Path) -> None:
    if not path.is_dir():
        pytest.skip(f"shared dataset {path} is absent")


def test_every_task_has_a_shipped_default() -> None:
    assert {p.stem for p in STUDY_FILES} >= {"unet", "genetic-cnn"}


@pytest.mark.parametrize("path", STUDY_FILES, ids=[p.stem for p in STUDY_FILES])
def test_study_file_starts_from_the_command_line(tmp_path: Path, path: Path) -> None:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    task = raw["study"]["task"]
    dataset = raw.get("task", {}).get("dataset")
    args = ["--study", str(path)]
    if dataset in DATA:
        needs_data(DATA[dataset])
        args += ["--data-root", str(DATA[dataset])]
    db = tmp_path / "runs.db"
    proc = run_ga(*args, "--population", "2", "--generations", "0", *TINY[task],
                  "--storage", f"sqlite:///{db}", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = stored(db, raw["study"]["name"])
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 2 and all(t.user_attrs["trained"] for t in complete)
    cfg = study.user_attrs["nasga_config"]
    assert cfg["task"].get("dataset") == dataset
    assert cfg["space"] == {**raw.get("space", {}), **({"channels": [4, 8]} if task == "unet"
                                                       else {})}
    if dataset in DATA:
        assert cfg["task"]["data_root"] == str(DATA[dataset])


@pytest.mark.parametrize(("task", "dataset", "folder"), [("unet", "aligned", FACADES),
                                                         ("genetic-cnn", "cifar10", CIFAR10)])
def test_data_root_switches_a_builtin_study_to_the_real_dataset(
        tmp_path: Path, task: str, dataset: str, folder: Path) -> None:
    needs_data(folder)
    db = tmp_path / "runs.db"
    extra = ["--image-size", "32", "--set", "space.depth=4"] if task == "unet" else []
    proc = run_ga("--task", task, "--data-root", str(folder), "--population", "2",
                  "--generations", "0", *TINY[task], *extra, "--storage", f"sqlite:///{db}",
                  "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = stored(db, task).user_attrs["nasga_config"]
    assert cfg["task"]["dataset"] == dataset and cfg["task"]["data_root"] == str(folder)
    assert "photo_task" not in cfg["task"]  # only the built-in photos read it


@pytest.mark.parametrize("args", [["--task", "unet"], ["--task", "genetic-cnn"],
                                  ["--study", "unet-facades"],
                                  ["--study", "genetic-cnn-cifar10"]],
                         ids=["unet", "genetic-cnn", "unet-facades", "genetic-cnn-cifar10"])
def test_a_missing_data_root_stops_before_storage(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    proc = run_ga(*args, "--data-root", str(missing), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr  # exactly one line
    assert "task.data_root" in proc.stderr and str(missing) in proc.stderr
    assert not (tmp_path / "studies").exists()  # no studies/*.db, nothing written
    assert list(tmp_path.iterdir()) == []


def test_a_builtin_dataset_set_next_to_a_data_root_is_refused(tmp_path: Path) -> None:
    proc = run_ga("--task", "unet", "--set", "task.dataset=photos", "--data-root",
                  str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "task.dataset: 'photos' is built in" in proc.stderr
    assert not (tmp_path / "studies").exists()


def test_a_shipped_study_is_started_by_name(tmp_path: Path) -> None:
    """``--study NAME`` from a folder without such a file runs the shipped studies/NAME.toml."""
    needs_data(FACADES)
    db = tmp_path / "runs.db"
    proc = run_ga("--study", "unet-facades", "--data-root", str(FACADES), "--population", "2",
                  "--generations", "0", *TINY["unet"], "--image-size", "32",
                  "--set", "space.depth=4", "--storage", f"sqlite:///{db}", "--quiet",
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = stored(db, "unet-facades").user_attrs["nasga_config"]
    assert cfg["task"]["dataset"] == "aligned" and cfg["task"]["direction"] == "BtoA"
