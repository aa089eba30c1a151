"""Local process plan: W processes per device, round-robin, CPU threads shared; --devices."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState

from nasga.samplers.ga.claims import work_of
from nasga.search.devices import (
    DEVICE_ENV, WorkerPlan, check_devices, default_devices, local_plan, parse_devices,
    plan_workers,
)
from nasga.search.workers import WORKER_KEY
from nasga.spaces import NasgaInputError

ROOT = Path(__file__).resolve().parents[2]


def test_round_robin_over_devices() -> None:
    plans = plan_workers(2, ["cuda:0", "cuda:1", "cuda:2"], cores=12)
    assert [p.device for p in plans] == ["cuda:0", "cuda:1", "cuda:2"] * 2
    assert {p.threads for p in plans} == {2}  # 12 cores // 6 processes


@pytest.mark.parametrize("workers,devices,cores,threads", [
    (1, 1, 2, 2), (2, 1, 2, 1), (4, 1, 2, 1), (16, 1, 2, 1), (3, 1, 16, 5), (4, 2, 16, 2),
    (8, 2, 16, 1), (16, 4, 16, 1), (1, 1, 1, 1),
])
def test_threads_share_the_cores(workers: int, devices: int, cores: int, threads: int) -> None:
    names = [f"cuda:{i}" for i in range(devices)]
    plans = plan_workers(workers, names, cores)
    assert len(plans) == workers * devices
    assert all(p == WorkerPlan(names[i % devices], threads) for i, p in enumerate(plans))
    total = sum(p.threads for p in plans)
    assert total <= cores or all(p.threads == 1 for p in plans)  # one each past the cores
    assert total <= max(cores, len(plans))


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_bad_worker_counts(workers: object) -> None:
    with pytest.raises(NasgaInputError, match="workers"):
        plan_workers(workers, ["cpu"], 2)  # type: ignore[arg-type]


def test_parse_devices() -> None:
    assert parse_devices("cuda:0, cuda:1") == ["cuda:0", "cuda:1"]
    assert parse_devices("cuda") == ["cuda:0"]
    assert parse_devices("cuda:01") == ["cuda:1"]
    assert parse_devices("cpu") == ["cpu"]
    for bad in ("", "gpu", "cuda:x", "cuda:", "mps", "cuda:0,cuda:0", "cpu,cpu"):
        with pytest.raises(NasgaInputError, match="devices"):
            parse_devices(bad)


def test_cuda_refused_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    check_devices(["cpu"])
    with pytest.raises(NasgaInputError, match="CUDA is not available"):
        check_devices(["cuda:0"])
    assert default_devices("auto") == ["cpu"]
    assert default_devices("cpu") == ["cpu"]


def test_cuda_index_beyond_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    check_devices(["cuda:0", "cuda:1"])
    with pytest.raises(NasgaInputError, match="2 CUDA device"):
        check_devices(["cuda:2"])
    assert default_devices("auto") == ["cuda:0", "cuda:1"]  # every visible GPU
    assert default_devices("cuda") == ["cuda:0", "cuda:1"]
    assert default_devices("cuda:1") == ["cuda:1"]
    assert default_devices("cpu") == ["cpu"]
    plans, override = local_plan(3, None, "auto", cores=16)
    assert [p.device for p in plans] == ["cuda:0", "cuda:1"] * 3 and override
    assert {p.threads for p in plans} == {2}


def test_one_process_keeps_the_task_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert local_plan(1, None, "auto", cores=2) == ([WorkerPlan("cpu", 2)], False)
    assert local_plan(1, "cpu", "auto", cores=2) == ([WorkerPlan("cpu", 2)], True)
    assert local_plan(2, None, "cpu", cores=2)[1]


def _nasga(*args: str, cwd: Path, env: dict | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nasga.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.mark.parametrize("flags,message", [
    (["--devices", "gpu"], "devices: unknown device 'gpu'"),
    (["--devices", "cuda:0,cuda:0"], "listed twice"),
    (["--workers", "0"], "workers: must be an integer >= 1"),
] + ([] if torch.cuda.is_available() else [
    (["--devices", "cuda:0"], "CUDA is not available"),
    (["--devices", "cpu,cuda"], "CUDA is not available"),
]))
@pytest.mark.parametrize("command", ["run", "worker"])
def test_cli_refuses_bad_devices(tmp_path: Path, command: str, flags: list[str],
                                 message: str) -> None:
    target = ["--task", "genetic-cnn"] if command == "run" else \
        ["--storage", f"journal:///{tmp_path / 'none.log'}", "--study-name", "none"]
    proc = _nasga(command, *target, *flags, "--quiet", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.slow
def test_run_places_workers_on_their_devices(tmp_path: Path) -> None:
    """``nasga run --workers 2 --devices cpu``: both processes train, on the CPU, with
    ``cores // 2`` torch threads each; each child once, no surplus training; the stored
    ``task.device`` is the study's own."""
    cfg = tmp_path / "study.toml"
    cfg.write_text(textwrap.dedent("""
        [study]
        name = "dev"
        task = "genetic-cnn"
        seed = 0
        [space]
        stages = [3, 4]
        [strategy]
        population = 6
        generations = 1
        max_evaluations = 0
        [task]
        epochs = 3
        max_train = 800
        device = "auto"
        """))
    log = tmp_path / "w.log"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", DEVICE_ENV)}
    proc = subprocess.run([sys.executable, "-m", "nasga.cli", "run", "--study", str(cfg),
                           "--storage", f"journal:///{log}", "--workers", "2", "--devices",
                           "cpu", "--quiet"], cwd=tmp_path, text=True, capture_output=True,
                          timeout=300, env={**env, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    threads = max(1, len(os.sched_getaffinity(0)) // 2)
    assert f"workers: 2 process(es): cpu ×2; {threads} torch thread(s) each" in proc.stdout
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from nasga.storages.storage import CONFIG_ATTR

    study = optuna.load_study(study_name="dev",
                              storage=JournalStorage(JournalFileBackend(str(log))))
    trained = [t for t in study.trials if t.state == TrialState.COMPLETE
               and t.user_attrs.get("trained")]
    assert len(trained) == 12
    assert {t.user_attrs["device"] for t in trained} == {"cpu"}
    assert {t.system_attrs[WORKER_KEY]["threads"] for t in trained} == {threads}
    children = {work_of(t)[::2] for t in trained}
    assert len(children) == len(trained)  # 0 surplus trainings
    assert study.user_attrs[CONFIG_ATTR]["task"]["device"] == "auto"  # not the override
    pids = {t.system_attrs[WORKER_KEY]["pid"] for t in trained}
    assert len(pids) == 2, pids  # the spawned worker trained too


@pytest.mark.parametrize("task", ["synthetic", None])
def test_device_override_reaches_only_this_process(tmp_path: Path, task: str | None) -> None:
    """``open_search(device=...)`` builds this process's task on the device; the stored config
    keeps ``task.device``; a task without a device setting (synthetic) ignores it."""
    from nasga.search.config import validate
    from nasga.search.run import open_search
    from nasga.storages.storage import CONFIG_ATTR

    cfg = validate({"study": {"name": "o", "task": "genetic-cnn", "seed": 0},
                    "space": {"stages": [3, 4]}, "strategy": {"population": 4, "generations": 0},
                    "task": {"task": task} if task else {"device": "auto"}})
    search = open_search(cfg, storage_url=f"journal:///{tmp_path / 'o.log'}", device="cpu")
    if task:
        assert search.objective.task.name == "synthetic"
    else:
        assert search.objective.task.device == "cpu"
        assert search.study.user_attrs[CONFIG_ATTR]["task"]["device"] == "auto"
