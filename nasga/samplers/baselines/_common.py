"""What the baselines share: the pruner that asks the sampler, a finished trial's last value,
and the one-line error of a missing optional package."""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from typing import Any, Protocol

from optuna.pruners import BasePruner
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nasga.errors import NasgaInputError


class Stops(Protocol):
    """A sampler that decides when its trials stop training."""

    def should_stop(self, study: Study, trial: FrozenTrial) -> bool:
        """Whether ``trial`` (RUNNING, its last report at ``trial.last_step``) stops now."""


class SamplerPruner(BasePruner):
    """The run's pruner for a baseline that stops trainings itself: it asks the sampler
    (:meth:`Stops.should_stop`), once per reported epoch, as nasga's objective asks
    ``should_prune`` (docs/design.md, "Pruning")."""

    def __init__(self, sampler: Stops) -> None:
        self._sampler = sampler

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        return trial.last_step is not None and self._sampler.should_stop(study, trial)


def import_optional(module: str, *, name: str, install: str) -> Any:
    """``module`` imported, or a one-line :class:`~nasga.errors.NasgaInputError` naming the
    baseline ``name`` and what to ``install`` where the optional package is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise NasgaInputError("samplers", f"{name} needs an optional package ({install}); "
                              f"{exc}") from None


def last_value(trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
               ) -> float | None:
    """A finished trial's value (a stopped one's: its last intermediate value; a failed one:
    ``None``)."""
    if state == TrialState.COMPLETE and values:
        return float(values[0])
    if state == TrialState.PRUNED and trial.intermediate_values:
        return float(trial.intermediate_values[max(trial.intermediate_values)])
    return None


def loss(study: Study, value: float | None) -> float:
    """``value`` as a loss to minimise: negated for a maximised study; a failure or a
    non-finite value is ``+inf``, the worst."""
    if value is None or not math.isfinite(value):
        return math.inf
    return -value if study.direction == StudyDirection.MAXIMIZE else value


def check_epochs(name: str, epochs: int | None) -> int:
    """The task's epochs per training, which a baseline that stops trainings needs."""
    if epochs is None:
        raise NasgaInputError("samplers", f"{name} stops trainings by their per-epoch values, "
                              f"which the task does not report; got {name!r}")
    return epochs


__all__ = ["SamplerPruner", "Stops", "check_epochs", "import_optional", "last_value", "loss"]
