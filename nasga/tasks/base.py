"""What every task provides: turn a genome into measurements, and measurements into fitness."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from nasga.spaces import Genome, Space


class EvaluationError(RuntimeError):
    """An evaluation that could not produce a finite result (NaN/inf loss, out of memory...).

    The objective records ``str(error)`` as the trial's ``fail_reason`` and fails the trial.
    """


Report = Callable[[int, dict[str, Any]], None]
"""``report(epoch, measurements)``: what a task calls after each epoch (1-based) with that
epoch's validation measurements (the names the final measurements use, and every cost the
fitness needs), so the caller can record a learning curve and stop early (issue 27). The
learning-rate schedule is the full training's: epoch ``e``'s values are what a longer training
saw at ``e``, and validating changes no random state, so a training reported on ends exactly
as one that is not."""


class StopTraining(Exception):
    """Raised by a :data:`Report` callback to end a training after ``epoch`` (a pruner
    decided so). Tasks let it through; it is not an :class:`EvaluationError`.

    Args:
        epoch: The epochs trained when it stopped.
    """

    def __init__(self, epoch: int) -> None:
        super().__init__(f"stopped after epoch {epoch}")
        self.epoch = epoch


def accepts_report(task: Any) -> bool:
    """Whether ``task.evaluate`` takes a ``report`` callback (tasks written before issue 27,
    and users' own, may not)."""
    import inspect

    try:
        return "report" in inspect.signature(task.evaluate).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin or C callable
        return False


def reported_epochs(task: Any) -> int | None:
    """The epochs per training a task reports through ``report`` (its ``epochs``, the rungs a
    pruner may stop at), or ``None`` where it reports none (:func:`accepts_report`): nothing
    can be pruned then."""
    return getattr(task, "epochs", None) if accepts_report(task) else None


def can_fuse(task: Any) -> bool:
    """Whether ``task`` trains several genomes as one network: it has ``evaluate_many(genomes,
    *, seeds, workdir)`` returning each genome's :class:`Evaluation` or the
    :class:`EvaluationError` that failed it alone (``[task] fuse``, issue 28)."""
    return callable(getattr(task, "evaluate_many", None))


@dataclass
class Evaluation:
    """One training of one genome.

    Attributes:
        measurements: Raw, JSON-serialisable numbers and strings (MACs, params, losses,
            metrics, seconds, device...), stored as trial user attrs. Fitness is computed from
            them by :meth:`Task.fitness`, so another fitness setting (γ) can reuse them.
        files: Files to attach to the trial through Optuna's artifact store (e.g. a PNG grid).
        model: The trained network (the generator for translation), for ``nasga train-best``;
            never stored in the study.
    """

    measurements: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    model: Any = None


@runtime_checkable
class Task(Protocol):
    """A genome-to-measurement task (docs/design.md, "Tasks").

    Optional attribute ``instant`` (default ``False``): ``True`` where an evaluation costs
    microseconds (a table lookup), so storage writes would dominate a run; ``nasga compare``
    then runs each study in memory and writes it to its storage when the run stops. Optional
    ``measurement_names``: the numeric measurements a study may name as objectives
    (``[study] objectives``, :mod:`nasga.evaluation.objectives`; without it, only ``fitness``).
    """

    name: str
    space: Space

    def evaluate(self, genome: Genome, *, seed: int, workdir: Path,
                 report: Report | None = None) -> Evaluation:
        """Build, measure, train and validate ``genome``; write any files under ``workdir``.

        ``report`` (optional for a task: the objective passes it only where ``evaluate``
        accepts it) is called after each epoch; a :class:`StopTraining` it raises ends the
        training there and propagates.
        """
        ...

    def fitness(self, measurements: dict[str, Any]) -> float:
        """The GA's fitness (maximized) from an evaluation's measurements."""
        ...

    def config(self) -> dict[str, Any]:
        """JSON-serialisable settings that define the task (stored in the study)."""
        ...
