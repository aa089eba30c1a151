"""Optuna's built-in samplers by name, as baselines on the same objective as the GA."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import optuna

from nasga.spaces import NasgaInputError, Space

SAMPLER_NAMES = ("ga", "aging", "random", "tpe", "gp", "nsga2", "qmc", "cmaes")
"""Every sampler a study may name (``[study] sampler``, ``--sampler``): the one list."""


def make_sampler(name: str, *, space: Space, strategy: Any, seed: int,
                 grace_period: float | None = None,
                 feasible: Callable[[Any], bool] | None = None) -> optuna.samplers.BaseSampler:
    """The sampler called ``name``, seeded, over ``space``'s distributions.

    ``ga`` is nasga's :class:`~nasga.samplers.ga.sampler.GeneticSampler` with ``strategy``; ``aging`` is
    :class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` (Real et al. 2019) with the strategy's population
    and a tournament of a quarter of it; NSGA-II gets the same population size; model-based samplers start from ``min(10, population)`` random trials.
    """
    population = int(strategy.population)
    startup = min(10, population)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "ga":
            from nasga.samplers.ga.sampler import GeneticSampler

            rebreed = strategy.rebreed_after(strategy.max_evaluations)
            return GeneticSampler(space=space, strategy=strategy, seed=seed,
                                  grace_period=grace_period, mode=strategy.mode,
                                  rebreed_after=rebreed, feasible=feasible)
        if name == "aging":
            from nasga.samplers.aging.sampler import AgingEvolutionSampler

            return AgingEvolutionSampler(population=population,
                                         sample_size=max(1, population // 4), space=space,
                                         seed=seed,
                                         rebreed_after=strategy.rebreed_after(
                                             strategy.max_evaluations) or 1)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)
        if name == "qmc":
            # Scrambled: Optuna's default (scramble=False) gives every seed the same Sobol
            # sequence, so "50 seeds" would be one run repeated.
            return optuna.samplers.QMCSampler(seed=seed, scramble=True,
                                              warn_independent_sampling=False)
        if name == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup,
                                                warn_independent_sampling=False)
    raise NasgaInputError("sampler", f"must be one of {', '.join(SAMPLER_NAMES)}, got {name!r}")
