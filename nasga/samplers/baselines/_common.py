"""What the baselines share: the pruner that asks the sampler, a finished trial's last value,
and the one-line error of a missing optional package."""

from __future__ import annotations

import importlib
import math
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from optuna.distributions import BaseDistribution
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nasga.errors import NasgaInputError
from nasga.spaces import Space


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


class BaselineSampler(BaseSampler):
    """What every baseline sampler does alike: the genome space's distributions as the relative
    search space, one proposal per trial (:meth:`_propose`, under the sampler's lock), a
    seeded random draw for a parameter outside the space, and its :class:`SamplerPruner`."""

    def __init__(self, *, space: Space, seed: int) -> None:
        self._space = space
        self._lock = threading.Lock()
        self._independent = RandomSampler(seed=seed)
        self.pruner = SamplerPruner(self)
        """The run's pruner: it asks :meth:`should_stop`."""

    def should_stop(self, study: Study, trial: FrozenTrial) -> bool:
        raise NotImplementedError

    def _propose(self, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
                 ) -> dict[str, Any]:
        """The baseline's next configuration as the trial's parameters (called locked)."""
        raise NotImplementedError

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return dict(self._space.distributions)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        with self._lock:
            return self._propose(trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)


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


__all__ = ["BaselineSampler", "SamplerPruner", "Stops", "check_epochs", "import_optional", "last_value", "loss"]
