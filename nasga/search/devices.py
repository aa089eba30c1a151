"""Where each local process trains: W processes per device, round-robin, CPU threads shared.

``nasga run --workers W --devices cuda:0,cuda:1`` starts ``W × len(devices)`` processes (the
driver is the first of them); process ``i`` trains on ``devices[i % len(devices)]`` and every
process gets ``max(1, cores // processes)`` torch threads, so that several processes never
oversubscribe the CPU (on 2 cores, a few torch processes with default threads each run many
times slower). ``nasga worker`` takes the same flags on other machines.

A process's device overrides the study's ``task.device`` for that process only (it reaches
spawned workers through ``$NASGA_DEVICE``); the stored study config is not changed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from nasga.errors import check_int, is_cuda_index
from nasga.spaces import NasgaInputError

DEVICE_ENV = "NASGA_DEVICE"
"""Environment variable: the device of one worker process (overrides ``task.device``)."""


@dataclass(frozen=True)
class WorkerPlan:
    """One local process: the device it trains on and its torch intra-op threads."""

    device: str
    threads: int


def cpu_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def parse_devices(text: str) -> list[str]:
    """``"cuda:0,cuda:1"`` → ``["cuda:0", "cuda:1"]`` (``"cuda"`` is ``"cuda:0"``).

    Only the names are checked here; :func:`check_devices` checks this machine has them.

    Raises:
        NasgaInputError: ``devices``: an empty list, an unknown name, or a device listed twice.
    """
    names = [part.strip() for part in str(text).split(",") if part.strip()]
    if not names:
        raise NasgaInputError("devices", f"expected a comma-separated list such as "
                                         f"'cuda:0,cuda:1' or 'cpu', got {text!r}")
    out: list[str] = []
    for name in names:
        head, sep, index = name.partition(":")
        if name == "cuda":
            name = "cuda:0"
        elif not (name == "cpu" or is_cuda_index(name)):
            raise NasgaInputError("devices", f"unknown device {name!r}: use cpu, cuda or cuda:N")
        else:
            name = f"cuda:{int(index)}" if head == "cuda" else name
        if name in out:
            raise NasgaInputError("devices", f"{name!r} is listed twice in {text!r}; --workers "
                                             "sets the processes per device")
        out.append(name)
    return out


def check_devices(devices: Sequence[str]) -> None:
    """Refuse CUDA devices this machine does not have.

    Raises:
        NasgaInputError: ``devices``: CUDA asked for where ``torch.cuda.is_available()`` is
            false, or an index beyond ``torch.cuda.device_count()``.
    """
    if not any(d.startswith("cuda") for d in devices):
        return
    import torch

    if not torch.cuda.is_available():
        raise NasgaInputError("devices", f"{','.join(devices)!r} asked for, but CUDA is not "
                                         "available here (use --devices cpu)")
    count = torch.cuda.device_count()
    for d in devices:
        if d.startswith("cuda") and int(d.partition(":")[2]) >= count:
            raise NasgaInputError("devices", f"{d!r} asked for, but this machine has {count} CUDA "
                                             f"device(s): cuda:0..cuda:{count - 1}")


def default_devices(task_device: str) -> list[str]:
    """The devices when ``--devices`` is not given, from the study's ``task.device``.

    ``"cpu"`` and ``"cuda:N"`` name one device; ``"auto"`` and ``"cuda"`` mean every visible
    GPU (``cuda:0..cuda:K-1``), or the CPU where there is none.
    """
    if task_device == "cpu" or task_device.startswith("cuda:"):
        return [task_device]
    import torch

    if torch.cuda.is_available() and torch.cuda.device_count() > 0:
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return ["cuda:0"] if task_device == "cuda" else ["cpu"]  # "cuda" without CUDA: refused later


def plan_workers(workers: int, devices: Sequence[str], cores: int) -> list[WorkerPlan]:
    """``workers`` processes per device, assigned round-robin, threads shared out.

    Args:
        workers: Processes per device (``--workers``).
        devices: The devices, in order (``--devices``).
        cores: CPU cores of this machine (all processes share them).

    Returns:
        ``workers × len(devices)`` plans; plan ``i`` is on ``devices[i % len(devices)]`` and
        each has ``max(1, cores // (workers × len(devices)))`` threads, so the processes
        together use at most ``cores`` threads (one each when there are more processes than
        cores).

    Raises:
        NasgaInputError: ``workers`` below 1, or no devices.
    """
    check_int("workers", workers)
    if not devices:
        raise NasgaInputError("devices", "expected at least one device")
    total = workers * len(devices)
    threads = max(1, int(cores) // total)
    return [WorkerPlan(devices[i % len(devices)], threads) for i in range(total)]


def local_plan(workers: int, devices: str | None, task_device: str,
               cores: int | None = None) -> tuple[list[WorkerPlan], bool]:
    """The plan of one ``nasga run``/``nasga worker`` command, checked.

    Returns:
        The plans, and whether they override ``task.device`` (``--devices`` given, or more
        than one process); a single process without ``--devices`` trains where
        ``task.device`` says, as before.

    Raises:
        NasgaInputError: ``workers`` below 1; ``devices`` unknown, listed twice or absent here.
    """
    check_int("workers", workers)
    names = parse_devices(devices) if devices is not None else default_devices(task_device)
    check_devices(names)
    plans = plan_workers(workers, names, cpu_cores() if cores is None else cores)
    return plans, devices is not None or len(plans) > 1


def apply_threads(plan: WorkerPlan) -> int:
    """Give this process ``plan.threads`` torch threads unless ``$OMP_NUM_THREADS`` is set
    (an explicit setting wins, here and in the workers it is passed on to); returns the count."""
    import torch

    explicit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if explicit.isascii() and explicit.isdigit() and int(explicit) > 0:
        threads = int(explicit)
    else:
        threads = plan.threads
        os.environ["OMP_NUM_THREADS"] = str(threads)  # tasks keep this count; workers inherit
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def plan_line(plans: Sequence[WorkerPlan]) -> str:
    """``3 processes: cuda:0 ×2, cuda:1 ×1; 5 torch thread(s) each``."""
    counts: dict[str, int] = {}
    for p in plans:
        counts[p.device] = counts.get(p.device, 0) + 1
    explicit = os.environ.get("OMP_NUM_THREADS", "").strip()
    threads = explicit if explicit else str(plans[0].threads)
    return (f"{len(plans)} process(es): " + ", ".join(f"{d} ×{n}" for d, n in counts.items())
            + f"; {threads} torch thread(s) each")


__all__ = ["DEVICE_ENV", "WorkerPlan", "apply_threads", "check_devices", "cpu_cores",
           "default_devices", "local_plan", "parse_devices", "plan_line", "plan_workers"]
