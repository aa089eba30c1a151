"""Syne Tune's regularized evolution under its ASHA scheduler, as a comparison baseline.

Syne Tune (Salinas et al. 2022, AutoML Conf) runs regularized evolution (Real et al. 2019)
under asynchronous successive halving (Li et al. 2020) as
``AsynchronousSuccessiveHalving(config_space, searcher="regularized_evolution")``: the
searcher's population holds each trial's *last* value at whatever rung it stopped
(``LastValueMultiFidelitySearcher``), and the scheduler stops a trial at a rung where its value
is not in the top ``1/η`` of that rung's. nasga's ``aging-asha`` has the same shape with its own
choices (P = 10, S = 5, intensification, tournaments at the highest common rung); this module
runs Syne Tune's own scheduler and searcher, with their defaults (population 100, sample 10,
η = 3, grace period 1, one bracket), so that ``aging-asha`` meets the peer it imitates.

:class:`SyneTuneSampler` is an Optuna sampler over Syne Tune's scheduler API (``suggest``,
``on_trial_add``, ``on_trial_result``, ``on_trial_complete``, ``on_trial_remove``,
``on_trial_error``), called as Syne Tune's own ``Tuner`` calls them; its ``pruner`` gives
each reported epoch to ``on_trial_result`` and stops the training when the scheduler says
``STOP``. Values are given as a loss to minimise
(:func:`~nasga.samplers.baselines._common.loss`). The package is optional (:data:`INSTALL`:
its metadata pulls xgboost, which the ASHA scheduler does not import). As every baseline (:mod:`nasga.samplers.baselines`), it is a
comparison's sampler only, and nasga's rules hold: only a key's first training is raced (a
key with a finished training trains to the end or is answered by the cache, and the scheduler
sees only its final value).

Syne Tune 0.16 draws regularized evolution's random first population from NumPy's *global*
generator (``sample_random_config`` ignores its ``rng``) and ASHA its bracket likewise, so a
seed alone would not repeat a run: the sampler makes every scheduler call inside its own global
state (:meth:`SyneTuneSampler._numpy_global`), seeded from its seed and restored afterwards, so
runs repeat per seed and nothing else's draws move.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from types import SimpleNamespace
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from nasga.errors import NasgaInputError, check_int
from nasga.samplers.baselines._common import (
    BaselineSampler, check_epochs, import_optional, last_value, loss,
)
from nasga.spaces import Space

NAME = "syne-tune-re-asha"
"""The baseline's name in :data:`nasga.samplers.registry.BASELINES`."""
INSTALL = "pip install --no-deps syne-tune && pip install dill sortedcontainers pandas"
"""How to install Syne Tune's scheduler without its xgboost dependency."""
METRIC, EPOCH = "loss", "epoch"
"""The result keys given to the scheduler: the loss and the epoch (its ``time_attr``)."""


def syne_tune() -> tuple[Any, Any, Any]:
    """Syne Tune's ``AsynchronousSuccessiveHalving``, ``Trial`` and ``config_space`` module,
    or a one-line :class:`~nasga.errors.NasgaInputError` where the package is missing."""
    asha = import_optional("syne_tune.optimizer.schedulers.asha", name=NAME, install=INSTALL)
    status = import_optional("syne_tune.backend.trial_status", name=NAME, install=INSTALL)
    domains = import_optional("syne_tune.config_space", name=NAME, install=INSTALL)
    return asha.AsynchronousSuccessiveHalving, status.Trial, domains


def config_space(distributions: dict[str, BaseDistribution], domains: Any) -> dict[str, Any]:
    """Syne Tune's config space of int (``randint``; stepped: ``choice``) and categorical
    (``choice``) Optuna distributions."""
    space: dict[str, Any] = {}
    for name, dist in distributions.items():
        if isinstance(dist, CategoricalDistribution):
            space[name] = domains.choice(list(dist.choices))
        elif isinstance(dist, IntDistribution) and not dist.log and dist.step == 1:
            space[name] = domains.randint(dist.low, dist.high)
        elif isinstance(dist, IntDistribution) and not dist.log:
            space[name] = domains.choice(list(range(dist.low, dist.high + 1, dist.step)))
        else:
            raise NasgaInputError("samplers", f"{NAME} maps int and categorical parameters "
                                  f"only, got {dist!r}")
    return space


class SyneTuneSampler(BaselineSampler):
    """Syne Tune's ASHA scheduler with regularized evolution, its trials as Optuna trials.

    Args:
        space: The genome space.
        epochs: Epochs of a full training, the scheduler's ``max_t``.
        seed: The scheduler's ``random_seed``.
        searcher: Syne Tune's searcher name (default ``regularized_evolution``).
        reduction_factor: ASHA's η (Syne Tune's default 3).
        grace_period: ASHA's first rung in epochs (Syne Tune's default 1).
        scheduler: An object with Syne Tune's scheduler methods to drive instead of a new
            ``AsynchronousSuccessiveHalving`` (tests; ``None``: Syne Tune's, as above).

    Raises:
        NasgaInputError: The package is missing, or bad settings.
    """

    def __init__(self, *, space: Space, epochs: int | None, seed: int,
                 searcher: str = "regularized_evolution", reduction_factor: int = 3,
                 grace_period: int = 1, scheduler: Any = None) -> None:
        epochs = check_epochs(NAME, epochs)
        check_int("reduction_factor", reduction_factor, minimum=2)
        check_int("grace_period", grace_period, minimum=1, maximum=epochs)
        super().__init__(space=space, seed=seed)
        self._epochs = epochs
        self._trials: dict[int, Any] = {}
        self._trial_class: Any = SimpleNamespace
        if scheduler is None:
            asha, self._trial_class, domains = syne_tune()
            scheduler = asha(
                config_space=config_space(dict(space.distributions), domains), metric=METRIC,
                do_minimize=True, searcher=searcher, time_attr=EPOCH, max_t=epochs,
                grace_period=grace_period, reduction_factor=reduction_factor,
                random_seed=int(seed))
        self._scheduler = scheduler
        self._global = np.random.RandomState(seed).get_state()

    @contextlib.contextmanager
    def _numpy_global(self) -> Iterator[None]:
        """NumPy's global generator set to this sampler's own state, and restored after."""
        saved = np.random.get_state()
        np.random.set_state(self._global)
        try:
            yield
        finally:
            self._global = np.random.get_state()
            np.random.set_state(saved)

    def should_stop(self, study: Study, trial: FrozenTrial) -> bool:
        with self._lock, self._numpy_global():
            syne = self._trials.get(trial.number)
            if syne is None:
                return False
            value = trial.intermediate_values.get(trial.last_step)
            return str(self._scheduler.on_trial_result(syne, {
                METRIC: loss(study, value), EPOCH: trial.last_step})) == "STOP"

    def _propose(self, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
                 ) -> dict[str, Any]:
        with self._numpy_global():
            config = dict(self._scheduler.suggest().config)
            syne = self._trial_class(trial_id=trial.number, config=config,
                                     creation_time=datetime.datetime.now())
            self._scheduler.on_trial_add(syne)
        self._trials[trial.number] = syne
        return {name: config[name] for name in search_space}

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        with self._lock, self._numpy_global():
            syne = self._trials.pop(trial.number, None)
            if syne is None:
                return
            if state == TrialState.COMPLETE:  # a full training, or the cache's answer
                self._scheduler.on_trial_complete(syne, {
                    METRIC: loss(study, last_value(trial, state, values)), EPOCH: self._epochs})
                return
            if state == TrialState.FAIL:
                self._scheduler.on_trial_error(syne)
            self._scheduler.on_trial_remove(syne)  # stopped at a rung, or failed


__all__ = ["EPOCH", "INSTALL", "METRIC", "NAME", "SyneTuneSampler", "config_space", "syne_tune"]
