"""Worker processes on one study: ``nasga worker`` subprocesses with their device and threads
(the plan comes from :func:`nasga.search.devices.plan_workers`), and the objective that records which
process trained each trial."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import optuna

from nasga.search.devices import DEVICE_ENV, WorkerPlan
from nasga.evaluation.objective import Objective
from nasga.storages.handle import trial_id

MAX_WORKERS = 1024
"""Most worker processes one command spawns (``--workers``)."""
STORAGE_ENV = "NASGA_STORAGE"
"""Environment variable carrying the study's storage URL to spawned workers."""


WORKER_KEY = "nasga:worker"
"""System attr of a training trial: its process, ``{"pid", "threads"}`` (torch's intra-op
threads while it trained); the device is the task's ``device`` measurement."""


class WorkerObjective(Objective):
    """:class:`~nasga.evaluation.objective.Objective` that records which process trained each trial (a
    system attr, so cache answers and reusing studies never copy it)."""

    def finish(self, trial: optuna.Trial, *args: Any, **kwargs: Any) -> float:
        value = super().finish(trial, *args, **kwargs)
        torch = sys.modules.get("torch")
        info: dict[str, Any] = {"pid": os.getpid()}
        if torch is not None:
            info["threads"] = int(torch.get_num_threads())
        trial.storage.set_trial_system_attr(trial_id(trial.storage, trial.study, trial.number),
                                            WORKER_KEY, info)
        return value


def spawn_workers(study_name: str, storage_url: str, n: int | list[WorkerPlan], *,
                  fuse: int | None = None) -> list[subprocess.Popen]:
    """Start ``nasga worker`` processes on the study (URL passed in the environment).

    Args:
        study_name: The study the workers join.
        storage_url: Its storage (passed as ``$NASGA_STORAGE``, never on the command line).
        n: A count (every worker on the study's ``task.device``, each process, this one
            included, with ``cores / (n + 1)`` torch threads), or one
            :class:`~nasga.search.devices.WorkerPlan` per worker: its device (``$NASGA_DEVICE``) and
            threads (``$OMP_NUM_THREADS``). An ``OMP_NUM_THREADS`` already set wins.
        fuse: A ``nasga worker --fuse K`` to pass on (``None``: the study's ``task.fuse``).
    """
    from nasga.search.devices import cpu_cores

    if isinstance(n, int):
        plans = [WorkerPlan("", max(1, cpu_cores() // (n + 1)))] * n
        if plans:
            from nasga.search.devices import apply_threads

            apply_threads(plans[0])  # this process shares the cores too
    else:
        plans = list(n)
    from nasga.search.interrupts import SPAWNED_ENV

    explicit = os.environ.get("OMP_NUM_THREADS", "").strip()
    cmd = [sys.executable, "-m", "nasga.cli", "worker", "--study-name", study_name, "--quiet",
           *(["--fuse", str(fuse)] if fuse is not None else [])]
    procs = []
    for plan in plans:
        env = {**os.environ, STORAGE_ENV: storage_url, SPAWNED_ENV: "1",
               "OMP_NUM_THREADS": explicit or str(plan.threads)}
        if plan.device:
            env[DEVICE_ENV] = plan.device
        else:
            env.pop(DEVICE_ENV, None)
        procs.append(subprocess.Popen(cmd, env=env))
    return procs
