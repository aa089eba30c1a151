"""``--fuse K`` / ``[task] fuse`` (issue 28): the same per-genome values as without it, exactly
once with worker processes, and bad input as one line, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasga.cli import main
from nasga.search.config import validate
from nasga.search.run import load_search, open_search
from nasga.storages.storage import CONFIG_ATTR, open_storage
from tests.helpers import ROOT, TINY, assert_each_child_once, one_line_error

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _tiny(tmp_path: Path, **replace: str) -> str:
    text = TINY["genetic-cnn"].replace("epochs = 1", "epochs = 2\nlr = 0.1")
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return str(path)


WHY = "a bound against typos: one fused network holds every member"
BAD = {
    "zero": (["--task", "genetic-cnn", "--fuse", "0"],
             f"task.fuse: must be an integer >= 1 and <= 4,096 ({WHY}), got 0"),
    "not an integer": (["--task", "genetic-cnn", "--fuse", "two"],
                       "argument --fuse: invalid int value: 'two'"),
    "a float in the study": (["--task", "genetic-cnn", "--set", "task.fuse=2.5"],
                             f"task.fuse: must be an integer >= 1 and <= 4,096 ({WHY}), got 2.5"),
    "a task without evaluate_many": (["--task", "unet", "--fuse", "2"],
                                     "task.fuse: the 'unet' task cannot train genomes fused"),
    "a tabular task on the space": (["--study", "{tabular}", "--fuse", "2"],
                                    "task.fuse: the 'genetic-cnn-bench' task cannot train"),
    "zero in the study file": (["--study", "{zero}"], "task.fuse: must be an integer >= 1"),
    "a pruner": (["--task", "genetic-cnn", "--fuse", "2", "--pruner", "median"],
                 "task.fuse: a fused training reports no epochs, so it takes no study.pruner"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_fuse_is_one_line_and_writes_nothing(case: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    files = {"{tabular}": TINY["genetic-cnn"].replace("[task]", '[task]\ntask = "genetic-cnn-'
                                                      'bench"').replace("max_train = 200", ""),
             "{zero}": TINY["genetic-cnn"].replace("[task]", "[task]\nfuse = 0")}
    args, fragment = BAD[case]
    for i, arg in enumerate(args):
        if arg in files:
            (tmp_path.parent / f"{case}.toml").write_text(files[arg].replace("epochs = 1", ""))
            args = [*args[:i], str(tmp_path.parent / f"{case}.toml"), *args[i + 1:]]
    monkeypatch.chdir(tmp_path)
    line, _ = one_line_error(main, ["run", *args, "--quiet"], capsys)
    assert fragment in line
    assert list(tmp_path.iterdir()) == []  # no storage, no studies/ folder


def _stored(tmp_path: Path, task: str = "genetic-cnn") -> str:
    url = f"journal:///{tmp_path / 'j.log'}"
    cfg = validate({"study": {"name": "w", "task": "genetic-cnn", "seed": 0},
                    "space": {"stages": [3, 4]}, "strategy": {"population": 4, "generations": 1},
                    "task": {"task": task} if task != "genetic-cnn" else {"fuse": 2}})
    open_search(cfg, storage_url=url)
    return url


@pytest.mark.parametrize("task, fuse, fragment", [
    ("genetic-cnn", "0", "fuse: must be an integer >= 1 and <= 4,096"),
    ("synthetic", "3", "fuse: the 'synthetic' task cannot train genomes fused")])
def test_a_workers_bad_fuse_is_one_line_and_writes_nothing(
        task: str, fuse: str, fragment: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = _stored(tmp_path, task)
    before = (tmp_path / "j.log").read_bytes()
    line, _ = one_line_error(main, ["worker", "--storage", url, "--study-name", "w",
                                    "--fuse", fuse, "--quiet"], capsys)
    assert fragment in line
    assert (tmp_path / "j.log").read_bytes() == before


def test_fuse_is_stored_resumable_and_a_worker_may_override_it(tmp_path: Path) -> None:
    url = _stored(tmp_path)
    assert load_search(url, "w").fuse == 2  # spawned workers fuse as the study does
    assert load_search(url, "w", fuse=1).fuse == 1  # this worker only:
    study = optuna.load_study(study_name="w", storage=open_storage(url, create=False))
    assert study.user_attrs[CONFIG_ATTR]["task"]["fuse"] == 2  # the study keeps its own
    cfg = validate({"study": {"name": "w", "task": "genetic-cnn", "seed": 0},
                    "space": {"stages": [3, 4]}, "strategy": {"population": 4, "generations": 1},
                    "task": {}})
    assert "fuse" not in cfg["task"]  # the default is stored as before the setting existed
    assert open_search(cfg, storage_url=url).fuse == 1  # a run may change it (resume.MUTABLE)


def _values(url: str) -> list[tuple]:
    study = optuna.load_study(study_name="tiny-gcnn", storage=url)
    return [(t.number, t.state, t.params, t.value, t.user_attrs.get("val_accuracy"),
             t.user_attrs.get("train_loss"), t.user_attrs.get("eval_seed")) for t in study.trials]


def test_run_fused_gives_the_same_values_per_genome(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = _tiny(tmp_path, **{"population = 4": "population = 5", "generations = 2":
                             "generations = 1"})
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("alone", "fused")]
    assert main(["run", "--study", cfg, "--storage", urls[0], "--quiet"]) == 0
    assert main(["run", "--study", cfg, "--storage", urls[1], "--quiet", "--fuse", "3"]) == 0
    alone, fused = _values(urls[0]), _values(urls[1])
    assert fused == alone and len(fused) == 10
    assert len({row[4] for row in fused}) > 3  # trainings that learned something different
    shares = [t.user_attrs["train_seconds"] for t in
              optuna.load_study(study_name="tiny-gcnn", storage=urls[1]).trials]
    assert len(set(shares)) < len(shares)  # members of one fused training share its seconds


def test_two_fused_worker_processes_evaluate_each_child_once(tmp_path: Path) -> None:
    url = f"journal:///{tmp_path / 'w.log'}"
    cfg = _tiny(tmp_path, **{"epochs = 2": "epochs = 1", "max_train = 200": "max_train = 100"})
    proc = subprocess.run([sys.executable, "-m", "nasga.cli", "run", "--study", cfg,
                           "--storage", url, "--workers", "2", "--fuse", "2", "--quiet"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    study = optuna.load_study(study_name="tiny-gcnn", storage=open_storage(url, create=False))
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]
    assert_each_child_once(study, 4, 2)
    assert study.user_attrs[CONFIG_ATTR]["task"]["fuse"] == 2


def test_a_workers_fuse_reaches_the_processes_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import nasga.search.workers as workers
    from nasga.search.devices import WorkerPlan

    commands: list[list[str]] = []
    monkeypatch.setattr(workers.subprocess, "Popen", lambda cmd, env: commands.append(cmd))
    workers.spawn_workers("s", "journal:///x.log", [WorkerPlan("", 1)] * 2, fuse=3)
    workers.spawn_workers("s", "journal:///x.log", [WorkerPlan("", 1)])
    assert [c[-2:] for c in commands[:2]] == [["--fuse", "3"]] * 2
    assert "--fuse" not in commands[2]  # the study's own task.fuse


def test_an_interrupt_mid_batch_is_one_line_and_resumable(tmp_path: Path) -> None:
    import signal
    import time

    from tests.helpers import SCRIPT

    cfg = _tiny(tmp_path, **{"epochs = 2": "epochs = 40", "max_train = 200": "max_train = 100",
                             "generations = 2": "generations = 0"})
    url = f"sqlite:///{tmp_path / 'i.db'}"
    command = [sys.executable, str(SCRIPT), "--study", cfg, "--storage", url, "--quiet",
               "--fuse", "4"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=ENV, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            trials = optuna.load_study(study_name="tiny-gcnn", storage=url).get_trials()
        except Exception:  # not created yet
            trials = []
        if sum(t.state == TrialState.RUNNING and "eval_seed" in t.user_attrs
               for t in trials) == 4:
            break  # the four members are in their fused training
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "trials 0, 1, 2, 3 marked FAIL" in err, err
    trials = optuna.load_study(study_name="tiny-gcnn", storage=url).trials
    assert [t.state for t in trials] == [TrialState.FAIL] * 4
    assert all(t.user_attrs["fail_reason"].startswith("interrupted by SIGINT") for t in trials)
    done = subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    study = optuna.load_study(study_name="tiny-gcnn", storage=url)
    assert_each_child_once(study, 4, 0)
