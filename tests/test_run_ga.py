"""End-to-end: scripts/run_ga.py as a subprocess on each task's default data (tiny budgets)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import SCRIPT, TINY, load_script, one_line_error
from nasga.evaluation.records import lineage


def run_ga(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def tiny_config(tmp_path: Path, task: str, **replace: str) -> Path:
    text = TINY[task]
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / f"{task}.toml"
    path.write_text(text)
    return path


def load(tmp_path: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path / 'runs.db'}")


@pytest.mark.parametrize("task", ["genetic-cnn", "unet"])
def test_run_ga_end_to_end(tmp_path: Path, task: str) -> None:
    cfg = tiny_config(tmp_path, task)
    proc = run_ga("--study", str(cfg), "--storage", f"sqlite:///{tmp_path / 'runs.db'}",
                  "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "gen   2: max" in proc.stdout and "best genome:" in proc.stdout
    assert "optuna-dashboard sqlite:///" in proc.stdout
    study = load(tmp_path, f"tiny-{'gcnn' if task == 'genetic-cnn' else 'unet'}")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 4 * 3
    assert sorted({lineage(t)["ga_generation"] for t in complete}) == [0, 1, 2]
    trained = [t for t in complete if t.user_attrs["trained"]]
    for t in trained:
        assert t.user_attrs["macs"] > 0 and t.user_attrs["params"] > 0
        assert ("val_accuracy" in t.user_attrs) if task == "genetic-cnn" else ("l_gen" in t.user_attrs)
    keys = [t.user_attrs["key"] for t in complete]
    if task == "unet":  # max_evaluations = 1: one training per distinct genome
        assert len(trained) == len(set(keys))
        assert sum(t.user_attrs["cached"] for t in complete) == len(keys) - len(set(keys))
    else:  # paper 004: every reappearance is trained again
        assert len(trained) == len(complete)
    assert study.user_attrs["nasga_config"]["strategy"]["population"] == 4


def test_kill_after_generation_1_and_resume(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, "unet", **{"generations = 2": "generations = 4",
                                           "epochs = 1": "epochs = 2"})
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    args = [sys.executable, str(SCRIPT), "--study", str(cfg), "--storage", db, "--quiet"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.time() + 240
    killed = False
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
        try:
            study = load(tmp_path, "tiny-unet")
        except KeyError:
            continue
        gens = [lineage(t).get("ga_generation") for t in study.trials
                if t.state == TrialState.COMPLETE]
        if gens.count(1) >= 4:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
    proc.wait()
    assert killed, "the run ended before generation 1 completed"
    before = [t for t in load(tmp_path, "tiny-unet").trials if t.state == TrialState.COMPLETE]
    assert len(before) < 4 * 5
    again = run_ga("--study", str(cfg), "--storage", db, "--quiet", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    study = load(tmp_path, "tiny-unet")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    per_gen = [sum(lineage(t)["ga_generation"] == g for t in complete) for g in range(5)]
    assert all(n >= 4 for n in per_gen)
    trained_keys = [t.user_attrs["key"] for t in complete if t.user_attrs["trained"]]
    assert len(trained_keys) == len(set(trained_keys))  # no genome trained twice


@pytest.mark.parametrize("sampler", ["random", "tpe", "gp", "nsga2", "qmc", "cmaes"])
def test_builtin_sampler_runs_into_its_own_study(tmp_path: Path, sampler: str) -> None:
    cfg = tiny_config(tmp_path, "genetic-cnn", **{"generations = 2": "generations = 1",
                                                  "max_train = 200": "max_train = 60"})
    proc = run_ga("--study", str(cfg), "--storage", f"sqlite:///{tmp_path / 'runs.db'}",
                  "--sampler", sampler, "--study-name", f"tiny-{sampler}", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = load(tmp_path, f"tiny-{sampler}")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 8
    assert study.user_attrs["nasga_config"]["study"]["sampler"] == sampler


def test_workers_flag_uses_a_journal_file(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, "genetic-cnn", **{"max_train = 200": "max_train = 60"})
    proc = run_ga("--study", str(cfg), "--workers", "2", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    journal = tmp_path / "studies" / "tiny-gcnn.log"
    assert journal.exists()
    assert "optuna-dashboard studies/tiny-gcnn.log" in proc.stdout
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name="tiny-gcnn",
                              storage=JournalStorage(JournalFileBackend(str(journal))))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    per_gen = [sum(lineage(t)["ga_generation"] == g for t in complete) for g in range(3)]
    assert all(n >= 4 for n in per_gen)
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]


def test_reuse_from_another_gamma_trains_no_genome_twice(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, "unet", **{"generations = 2": "generations = 1"})
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    first = run_ga("--study", str(cfg), "--storage", db, "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_ga("--study", str(cfg), "--storage", db, "--quiet", "--gamma", "400",
                    "--study-name", "tiny-unet-g400", "--reuse-from", "tiny-unet", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    a, b = load(tmp_path, "tiny-unet"), load(tmp_path, "tiny-unet-g400")
    trained_a = {t.user_attrs["key"] for t in a.trials if t.user_attrs.get("trained")}
    reused = [t for t in b.trials if "reused_from" in t.user_attrs]
    assert reused, "generation 0 is the same random genomes (same seed): they must be reused"
    for t in reused:
        assert t.user_attrs["key"] in trained_a
        expected = 1.0 / (t.user_attrs["l_gen"] + 400.0 * t.user_attrs["macs"] / 1e9)
        assert t.value == pytest.approx(expected)
    for t in b.trials:  # nothing that a trained is trained again in b
        if t.user_attrs.get("trained"):
            assert t.user_attrs["key"] not in trained_a


def test_reuse_from_a_study_that_measures_differently_is_rejected(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, "unet", **{"generations = 2": "generations = 0"})
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    assert run_ga("--study", str(cfg), "--storage", db, "--quiet", cwd=tmp_path).returncode == 0
    other = tiny_config(tmp_path, "unet", **{"epochs = 1": "epochs = 2",
                                             'name = "tiny-unet"': 'name = "other"'})
    for extra, fragment in ((["--reuse-from", "tiny-unet"], "task.epochs: 1 there, 2 here"),
                            (["--reuse-from", "nope"], "no study named 'nope'")):
        proc = run_ga("--study", str(other), "--storage", db, "--quiet", *extra, cwd=tmp_path)
        assert proc.returncode != 0
        assert "study.reuse_from" in proc.stderr and fragment in proc.stderr, proc.stderr[-2000:]
        assert proc.stderr.strip().count("\n") == 0  # one line, no traceback
    assert optuna.get_all_study_names(db) == ["tiny-unet"]  # nothing half-written


@pytest.mark.parametrize("args,message", [
    (["--workers", "0"], "workers: must be an integer >= 1 and <= 1,024, got 0"),
    (["--workers", "1,2"], "argument --workers: invalid int value: '1,2'"),
    (["--confirm", "-1"], "confirm: must be an integer >= 0, got -1"),
    (["--population", "1"], "strategy.population: must be an integer >= 2, got 1"),
    (["--generations", "-1"], "strategy.generations: must be an integer >= 0, got -1"),
    (["--max-evaluations", "-1"], "strategy.max_evaluations: must be an integer >= 1, got -1"),
    (["--seed", "-1"], "study.seed: must be in 0..2**32-1 = 4294967295"),
    (["--sampler", "bayes"], "argument --sampler: invalid choice: 'bayes'"),
    (["--devices", "cuda:x"], "devices: unknown device 'cuda:x'"),
    (["--set", "task.epochs=0"], "task.epochs: must be an integer >= 1"),
    (["--task", "unet", "--image-size", "7"], "task.image_size: must be divisible by 2^depth"),
    (["--task", "unet", "--gamma", "nan"], "task.gamma: must be a finite number, got nan"),
])
def test_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(
        tmp_path: Path, monkeypatch, capsys, args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)  # the default storage would go under studies/ here
    argv = ["--task", "genetic-cnn", *args, "--storage", f"sqlite:///{tmp_path / 'runs.db'}"]
    line, _ = one_line_error(load_script("run_ga").main, argv, capsys)
    assert line.startswith("nasga run: error: ") and message in line, line
    assert list(tmp_path.iterdir()) == []
