"""Per-generation statistics of a study as data (paper 004, Table 1)."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
import nasga.evaluation.records as R


@dataclass(frozen=True)
class GenerationStats:
    """One row of paper 004 Table 1 (Gen, Max, Min, Avg, Med, Std-D, best structure).

    ``std`` is the population standard deviation, ``cached_share`` the share of the
    generation's trials answered from the cache.
    """

    generation: int
    n: int
    max: float
    min: float
    mean: float
    median: float
    std: float
    best_genome: str
    cached_share: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def trial_generation(trial: FrozenTrial, population_size: int | None = None) -> int | None:
    """A trial's generation: the GA's ``ga_generation``, else ``number // population_size``
    (``None`` for the confirmation trainings of :func:`nasga.search.confirm.confirm`)."""
    generation = R.lineage(trial).get(R.GA_GENERATION)
    if generation is not None:
        return int(generation)
    if R.CONFIRM_TRAININGS in trial.user_attrs:  # nasga.search.confirm.confirm's retrainings: no generation
        return None
    # Other samplers' own generations (NSGA-II's, CMA-ES's) are not nasga's: use blocks.
    if population_size:
        return trial.number // population_size
    return None


def generation_stats(study: optuna.Study, *, population_size: int | None = None
                     ) -> list[GenerationStats]:
    """Statistics of the COMPLETE trials of each generation, oldest first.

    Args:
        study: Any study of nasga's objective (GA or a built-in sampler); a multi-objective
            study's rows are those of its first objective, ``best_genome`` the best by its
            direction (the front itself: :mod:`nasga.results.report.front`).
        population_size: Groups trials of samplers without generations into blocks.
    """
    several = len(study.directions) > 1
    lower = several and study.directions[0] == optuna.study.StudyDirection.MINIMIZE

    def value(t: FrozenTrial) -> float | None:
        return (t.values or [None])[0] if several else t.value

    groups: dict[int, list[FrozenTrial]] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        g = trial_generation(t, population_size)
        v = value(t)
        if g is not None and v is not None and math.isfinite(v):
            groups.setdefault(g, []).append(t)
    rows = []
    for g in sorted(groups):
        trials = groups[g]
        values = [float(value(t)) for t in trials]  # type: ignore[arg-type]
        best = max(trials, key=lambda t: (-value(t) if lower else value(t),  # type: ignore
                                          -t.number))
        rows.append(GenerationStats(
            generation=g,
            n=len(values),
            max=max(values),
            min=min(values),
            mean=statistics.fmean(values),
            median=statistics.median(values),
            std=statistics.pstdev(values),
            best_genome=str(best.user_attrs.get(R.GENOME, best.params)),
            cached_share=sum(bool(t.user_attrs.get(R.CACHED)) for t in trials) / len(trials),
        ))
    return rows
