"""Bad flags and bad config files: one line naming the field, exit code 2, no study created."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SCRIPT, TINY

GOOD = TINY["genetic-cnn"]

BAD_CONFIGS = {
    "unknown table": (GOOD + "\n[extra]\nx = 1\n", "extra: unknown table"),
    "unknown study key": (GOOD.replace('seed = 0', 'seed = 0\ncolour = "red"'),
                          "study.colour: unknown key"),
    "wrong type": (GOOD.replace("seed = 0", 'seed = "zero"'), "study.seed: must be an integer"),
    "bad task": (GOOD.replace('task = "genetic-cnn"', 'task = "gan"'), "study.task: must be one of"),
    "population < 2": (GOOD.replace("population = 4", "population = 1"),
                       "strategy.population: must be an integer >= 2, got 1"),
    "probability > 1": (GOOD.replace("generations = 2", "generations = 2\npc = 1.5"),
                        "strategy.pc: must be a probability in [0, 1], got 1.5"),
    "unknown strategy key": (GOOD.replace("generations = 2", "generations = 2\nfoo = 1"),
                             "strategy.foo"),
    "empty stages": (GOOD.replace("stages = [3, 4]", "stages = []"), "space.stages: must not be empty"),
    "zero-node stage": (GOOD.replace("stages = [3, 4]", "stages = [3, 0]"),
                        "space.stages: entries must be positive integers, got 0"),
    "stage beyond 64 nodes": (GOOD.replace("stages = [3, 4]", "stages = [3, 100000]"),
                              "stages: stage 2 has at most 64 nodes, got 100000"),
    "unet depth beyond 16": (TINY["unet"].replace("depth = 4", "depth = 1000000000"),
                             "depth: must be an integer >= 1 and <= 16"),
    "unknown space key": (GOOD.replace("stages = [3, 4]", "depth = 4"), "space.depth: unknown key"),
    "toml syntax": (GOOD + "\n[task\n", "invalid TOML"),
    "unet empty channels": (TINY["unet"].replace("channels = [8, 16, 32]", "channels = []"),
                            "space.channels: must not be empty"),
    "pruner name a list": (GOOD.replace("seed = 0", 'seed = 0\npruner = {name = ["median"]}'),
                           "study.pruner: must be one of"),
    "pruner parameter huge": (GOOD.replace("seed = 0", 'seed = 0\npruner = {name = '
                                           '"successive-halving", min_early_stopping_rate = '
                                           '1000000000000000000000}'),
                              "study.pruner.min_early_stopping_rate: must be an integer >= 0 "
                              "and <= 100,000"),
    "heartbeat beyond a day": (GOOD.replace("seed = 0", "seed = 0\nheartbeat_interval = "
                                            "10000000000"),
                               "study.heartbeat_interval: must be an integer >= 1 and <= 86,400"),
    "empty study name": (GOOD.replace('name = "tiny-gcnn"', 'name = ""'),
                         "study.name: must be 1 to 512 printable characters, not blank"),
    "blank study name": (GOOD.replace('name = "tiny-gcnn"', 'name = "   "'),
                         "study.name: must be 1 to 512 printable characters, not blank"),
    "study name with a newline": (GOOD.replace('name = "tiny-gcnn"', 'name = "a\\nb"'),
                                  "study.name: must be 1 to 512 printable characters"),
    "study name with a NUL": (GOOD.replace('name = "tiny-gcnn"', 'name = "a\\u0000b"'),
                              "study.name: must be 1 to 512 printable characters"),
    "study name too long": (GOOD.replace('name = "tiny-gcnn"', f'name = "{"n" * 513}"'),
                            "study.name: must be 1 to 512 printable characters"),
    "max_evaluations false": (GOOD.replace("generations = 2", "generations = 2\n"
                                           "max_evaluations = false"),
                              "strategy.max_evaluations: must be an integer"),
    "task name not a string": (GOOD.replace("epochs = 1", "epochs = 1\ntask = []"),
                               "task.task: must be one of"),
    "synthetic noise not a number": (GOOD.replace("epochs = 1\nmax_train = 200",
                                                  'task = "synthetic"\nnoise = "abc"'),
                                     "task.noise: must be a finite number, got 'abc'"),
    "budget no genome fits": (GOOD + "max_macs = 1\n",
                              "task.max_macs: not even the space's smallest genome fits"),
    "unet budget no genome fits": (TINY["unet"] + "max_params = 1\n",
                                   "task.max_params: not even the space's smallest genome fits"),
}


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def _assert_rejected(tmp_path: Path, proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr  # exactly one line
    assert fragment in proc.stderr
    assert not (tmp_path / "runs.db").exists()  # nothing written to storage
    assert not (tmp_path / "studies").exists()


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_files(tmp_path: Path, case: str) -> None:
    text, fragment = BAD_CONFIGS[case]
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    proc = _run(tmp_path, "--study", str(cfg), "--storage", f"sqlite:///{tmp_path / 'runs.db'}")
    _assert_rejected(tmp_path, proc, fragment)


BAD_FLAGS = {
    "unknown flag": (["--task", "unet", "--colour", "red"], "unrecognized arguments: --colour"),
    "bad task": (["--task", "gan"], "invalid choice: 'gan'"),
    "population 1": (["--task", "unet", "--population", "1"], "strategy.population"),
    "non-integer": (["--task", "unet", "--population", "many"], "invalid int value"),
    "gamma on genetic-cnn": (["--task", "genetic-cnn", "--gamma", "0.1"], "gamma: only the unet"),
    "missing config": (["--study", "nope.toml"], "no such config file"),
    "bad storage scheme": (["--task", "unet", "--storage", "redis://x"], "storage: unknown scheme"),
    "empty storage": (["--task", "unet", "--storage", ""], "storage: unknown scheme in ''"),
    "journal naming no file": (["--task", "unet", "--storage", "journal:///"],
                               "storage: a journal is a file"),
    "journal not a regular file": (["--task", "unet", "--storage", "journal:////dev/null"],
                                   "storage: a journal is a regular file; '/dev/null' is not one"),
    "devices with non-ASCII digits": (["--task", "unet", "--devices", "cuda:²"],
                                      "devices: unknown device 'cuda:²'"),
    "bad sampler": (["--task", "unet", "--sampler", "bayes"], "invalid choice: 'bayes'"),
    "bad device": (["--task", "unet", "--device", "tpu"], "device"),
    "workers 0": (["--task", "unet", "--workers", "0"], "workers: must be an integer >= 1"),
    "workers beyond 1024": (["--task", "unet", "--workers", "1000000000000"],
                            "workers: must be an integer >= 1 and <= 1,024"),
    "cifar without root": (["--study", str(Path(__file__).resolve().parents[2] / "studies" /
                                           "genetic-cnn-cifar10.toml")], "data_root"),
}


@pytest.mark.parametrize("case", sorted(BAD_FLAGS))
def test_bad_flags(tmp_path: Path, case: str) -> None:
    args, fragment = BAD_FLAGS[case]
    proc = _run(tmp_path, *args)
    _assert_rejected(tmp_path, proc, fragment)


def test_a_file_that_is_not_a_journal_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notes.log"
    path.write_text("my notes, not a journal\n")
    proc = _run(tmp_path, "--task", "unet", "--storage", f"journal:///{path}")
    _assert_rejected(tmp_path, proc, "is not an Optuna journal file")
    assert path.read_text() == "my notes, not a journal\n"  # not "repaired" into a journal
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.log"]


def test_a_search_whose_trials_keep_failing_ends_in_one_line_without_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nasga.cli import main
    from nasga.tasks.classification import ClassificationTask

    def overflow(*_args: object, **_kwargs: object) -> None:  # what task.lr = 1e39 once did
        raise RuntimeError("value cannot be converted to type float without overflow")

    monkeypatch.setattr(ClassificationTask, "evaluate", overflow)
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(GOOD)
    code = main(["run", "--study", str(cfg), "--storage", f"sqlite:///{tmp_path / 'runs.db'}",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("nasga run: error: ") and "trials failed in a row; last reason: " \
        "RuntimeError: value cannot be converted" in last, last