"""PyTorch plumbing shared by the training tasks: device, threads, seeds, AMP, failures, grids.

Nothing here knows about genomes. The tasks (:mod:`nasga.tasks.classification`,
:mod:`nasga.tasks.translation`) use these helpers so that every evaluation

* runs on the requested device (``"auto"``: CUDA when present, else CPU; docs/design.md,
  "Tasks"),
  with every CPU core in use (unless ``OMP_NUM_THREADS`` says otherwise);
* is reproducible for a seed (torch, NumPy and :mod:`random` seeded from one integer);
* uses mixed precision on CUDA only (bfloat16 where supported, else float16 with a scaler);
* fails with an :class:`~nasga.tasks.base.EvaluationError` (recorded as the trial's
  ``fail_reason``) on a non-finite loss or when CUDA runs out of memory, never with a crash.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from nasga.errors import NasgaInputError, is_cuda_index
from nasga.tasks.base import EvaluationError

DEVICES = ("auto", "cpu", "cuda")


def check_device(device: object) -> str:
    """Validate a device setting (``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``).

    Raises:
        NasgaInputError: ``device`` is not one of those strings.
    """
    if isinstance(device, str) and (device in DEVICES or is_cuda_index(device)):
        return device
    raise NasgaInputError("device", f"must be one of {DEVICES} or 'cuda:N', got {device!r}")


def check_device_available(device: str) -> None:
    """Refuse ``"cuda"``/``"cuda:N"`` on a machine without CUDA, or ``N`` past its GPUs.

    Raises:
        NasgaInputError: ``device`` naming the setting and what this machine has.
    """
    device = check_device(device)
    if not device.startswith("cuda"):
        return
    if not torch.cuda.is_available():
        raise NasgaInputError("device", f"{device!r} asked for, but CUDA is not available here "
                                        "(use 'auto' or 'cpu')")
    _, _, index = device.partition(":")
    count = torch.cuda.device_count()
    if index and int(index) >= count:
        raise NasgaInputError("device", f"{device!r} asked for, but this machine has {count} "
                                        f"CUDA device(s): cuda:0..cuda:{count - 1}")


def resolve_device(device: str) -> torch.device:
    """The :class:`torch.device` for a setting; ``"auto"`` is CUDA when available, else CPU.

    On CPU this also sets torch's intra-op threads to every core this process may use.

    Raises:
        NasgaInputError: A bad setting, or ``"cuda"`` asked for on a machine without CUDA.
    """
    resolved = device_of(device)
    if resolved.type == "cpu":
        use_all_cores()
    return resolved


def device_of(device: str) -> torch.device:
    """The :class:`torch.device` a setting names on this machine (no side effects).

    Raises:
        NasgaInputError: A bad setting, or a CUDA device this machine does not have.
    """
    device = check_device(device)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    check_device_available(device)
    return torch.device(device)


def cpu_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def use_all_cores() -> None:
    """Let torch's intra-op thread pool use every available core.

    An explicit ``OMP_NUM_THREADS`` in the environment wins (torch already starts with it): set
    it to ``cores // workers`` when several worker processes share one machine, since
    oversubscribed OpenMP threads can slow training down many times over.
    """
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return
    n = cpu_cores()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def seed_everything(seed: int) -> torch.Generator:
    """Seed :mod:`random`, NumPy and torch (CPU and CUDA) from one integer.

    Returns:
        A CPU :class:`torch.Generator` seeded with ``seed``, for data shuffling that does not
        depend on how many random numbers model construction drew.
    """
    seed = int(seed) % 2**63
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    gen = torch.Generator()
    gen.manual_seed((seed + 1) % 2**63)
    return gen


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """Autocast dtype: bfloat16 on CUDA where supported, float16 on older GPUs, none on CPU."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """``torch.autocast`` on CUDA with ``dtype``; a no-op context on CPU or with ``None``."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


CHANNELS_LAST_ENV = "NASGA_CHANNELS_LAST"


def to_device(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` on ``device``; on CUDA in ``channels_last`` memory format when
    ``$NASGA_CHANNELS_LAST`` is ``1`` (off by default: for the small networks searched here it
    is to be measured with ``scripts/bench_gpu.py --channels-last``; on CPU never)."""
    model = model.to(device)
    if device.type == "cuda" and os.environ.get(CHANNELS_LAST_ENV, "").strip() == "1":
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model


def grad_scaler(device: torch.device, dtype: torch.dtype | None) -> torch.amp.GradScaler:
    """A gradient scaler, enabled only for float16 autocast (bfloat16 needs none)."""
    return torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)


class LossMonitor:
    """Collects named losses per step; at the end of each epoch checks they were all finite.

    The losses stay on the device during the epoch (no per-step synchronisation on CUDA).

    Args:
        names: Name of each loss, used in the error message (e.g. ``"loss"``,
            ``"discriminator loss"``, ``"generator loss"``).
    """

    def __init__(self, *names: str) -> None:
        self.names = names or ("loss",)
        self._steps: list[torch.Tensor] = []

    def add(self, *losses: torch.Tensor) -> None:
        """Record one step's scalar losses, in the order of :attr:`names`."""
        self._steps.append(torch.stack([loss.detach().float() for loss in losses]))

    def end_epoch(self, epoch: int) -> tuple[float, ...]:
        """Check the epoch's losses and return the mean of each.

        Raises:
            EvaluationError: ``"<name> became nan at epoch e, step s"`` (both 0-based) for the
                earliest non-finite step (the first name on a tie).
        """
        if not self._steps:
            return tuple(float("nan") for _ in self.names)
        values = torch.stack(self._steps).cpu()  # steps × losses
        self._steps = []
        error = nonfinite_error(values, self.names, epoch)
        if error is not None:
            raise error
        return tuple(float(v) for v in values.mean(0))


def nonfinite_error(values: torch.Tensor, names: Sequence[str],
                    epoch: int) -> EvaluationError | None:
    """``"<name> became nan at epoch e, step s"`` (both 0-based) for the earliest non-finite
    step of an epoch's ``steps × losses`` values (the first name on a tie); ``None`` if all are
    finite."""
    bad = (~torch.isfinite(values)).nonzero()
    if not len(bad):
        return None
    step, which = int(bad[0, 0]), int(bad[0, 1])
    return EvaluationError(
        f"{names[which]} became {float(values[step, which])} at epoch {epoch}, step {step}")


def check_finite(value: float, what: str) -> float:
    """Return ``value``; raise :class:`EvaluationError` if it is NaN or infinite."""
    if not np.isfinite(value):
        raise EvaluationError(f"{what} became {value} during validation")
    return float(value)


@contextlib.contextmanager
def oom_as_evaluation_error(device: torch.device) -> Iterator[None]:
    """Turn a CUDA out-of-memory error into ``EvaluationError("out of memory on cuda: ...")``.

    The cache is emptied afterwards, so the next genome starts with free memory.
    """
    try:
        yield
    except torch.cuda.OutOfMemoryError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "CUDA OOM"
        raise EvaluationError(f"out of memory on {device.type}: {first}") from exc
    except RuntimeError as exc:
        if device.type == "cuda" and "out of memory" in str(exc).lower():
            first = str(exc).strip().splitlines()[0]
            raise EvaluationError(f"out of memory on {device.type}: {first}") from exc
        raise
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()


def check_fits(what: str, networks: Sequence[tuple[object, tuple[int, ...]]], *, batch: int,
               device: torch.device | str, copies: int = 1) -> None:
    """Refuse a training whose networks would not fit in memory, before allocating them.

    Args:
        what: The genome (or space) named in the message.
        networks: ``(build, input_shape)`` per network: a zero-argument callable returning the
            ``nn.Module``, and its (C, H, W) input; estimated on the meta device.
        batch: Images per training step.
        device: Where the training runs (its memory is the bound).
        copies: How many times the networks train together (estimated once).

    Raises:
        EvaluationError: The estimate (parameters, gradients, Adam moments, activations and
            their gradients) exceeds 80 % of the device's memory, or a network cannot run a
            training step on its input at ``batch``.
    """
    from nasga.models.memory import GB, CannotRun, estimate_memory, memory_limit

    try:  # in training mode at the training's batch: what the first step will run
        needed = copies * sum(
            estimate_memory(build, shape, batch=batch,  # type: ignore[arg-type]
                            train=True).training_bytes(batch)
            for build, shape in networks)
    except CannotRun as exc:
        raise EvaluationError(f"{what} {exc}") from None
    limit = memory_limit(device)
    if needed > limit:
        raise EvaluationError(
            f"{what} needs about {needed / GB:,.1f} GB to train at batch {batch}, over the "
            f"{limit / GB:,.1f} GB {torch.device(device).type} allows (estimated before building)")


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work (so wall-clock timings are honest); no-op on CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _to_uint8(img: torch.Tensor) -> np.ndarray:
    """C×H×W in [-1, 1] (1 or 3 channels) → H×W×3 uint8."""
    x = img.detach().float().cpu().clamp(-1.0, 1.0)
    x = ((x + 1.0) * 127.5).round().to(torch.uint8)
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    elif x.shape[0] != 3:
        x = x[:1].expand(3, -1, -1)  # show the first channel of other layouts
    return x.permute(1, 2, 0).numpy()


def write_grid(path: Path, rows: Sequence[torch.Tensor], *, pad: int = 2) -> Path:
    """Write a PNG with one row per batch (e.g. inputs, outputs, targets), images in [-1, 1].

    Args:
        path: The PNG to write (parent folders are created).
        rows: N×C×H×W tensors with the same N, H and W (C of 1 or 3).
        pad: White pixels between images.

    Returns:
        ``path``.
    """
    from PIL import Image

    n = min(int(r.shape[0]) for r in rows)
    h, w = int(rows[0].shape[2]), int(rows[0].shape[3])
    canvas = np.full((len(rows) * (h + pad) + pad, n * (w + pad) + pad, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j in range(n):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            canvas[top : top + h, left : left + w] = _to_uint8(row[j])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(canvas).save(path)
    return path


def paused(device: torch.device, work: Callable[[], None]) -> float:
    """Run ``work`` outside a training's timing; the seconds it took (the device synchronised
    before and after), to subtract from the timer's start."""
    synchronize(device)
    start = time.perf_counter()
    work()
    synchronize(device)
    return time.perf_counter() - start
