"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import optuna

from nasga.objective import Objective
from nasga.sampler import GeneticSampler
from nasga.spaces import GeneticCNNSpace, UNetSpace
from nasga.strategies import get_strategy
from nasga.tasks.synthetic import SyntheticTask

optuna.logging.set_verbosity(optuna.logging.WARNING)

# Real datasets live beside the checkout (never copied into the repo); tests skip without them.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def small_gcnn() -> GeneticCNNSpace:
    return GeneticCNNSpace((3, 4))


def small_unet() -> UNetSpace:
    return UNetSpace(depth=4, channels=(8, 16, 32))


def ga_study(space, *, preset: str, seed: int = 0, population: int = 10, storage=None,
             study_name: str | None = None, max_evaluations: int | None = 1, task=None,
             **overrides) -> tuple[optuna.Study, Objective]:
    strategy = get_strategy(preset, population=population, **overrides)
    sampler = GeneticSampler(space=space, strategy=strategy, seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=storage,
                                study_name=study_name, load_if_exists=True)
    objective = Objective(space=space, task=task or SyntheticTask(space),
                          max_evaluations=max_evaluations, seed=seed)
    return study, objective
