"""What every task provides: turn a genome into measurements, and measurements into fitness."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from nasga.spaces import Genome, Space


class EvaluationError(RuntimeError):
    """An evaluation that could not produce a finite result (NaN/inf loss, out of memory...).

    The objective records ``str(error)`` as the trial's ``fail_reason`` and fails the trial.
    """


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
    then runs each study in memory and writes it to its storage when the run stops.
    """

    name: str
    space: Space

    def evaluate(self, genome: Genome, *, seed: int, workdir: Path) -> Evaluation:
        """Build, measure, train and validate ``genome``; write any files under ``workdir``."""
        ...

    def fitness(self, measurements: dict[str, Any]) -> float:
        """The GA's fitness (maximized) from an evaluation's measurements."""
        ...

    def config(self) -> dict[str, Any]:
        """JSON-serialisable settings that define the task (stored in the study)."""
        ...
