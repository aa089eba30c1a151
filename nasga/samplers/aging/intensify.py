"""SMAC's intensification for noisy fitness: which measured model to measure again.

Hutter, Hoos and Leyton-Brown 2011, "Sequential Model-Based Optimization for General Algorithm
Configuration" (LION 5), §4.2 ("Intensification"): a challenger is run again only while it
looks at least as good as the incumbent, so runs go to the configurations that may be best
and a poor one is dropped after one run. nasga's version (issue 16), used by
:class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` (``intensify=True``):

* a *model* is an identity (a canonical genome key, or a parameter set) and its *mean* is the
  direction-adjusted mean of its COMPLETE trials (nasga's objective already returns the mean
  over a key's trainings, so there the latest value is the mean);
* the *incumbent* is the best mean among the models with ``k`` COMPLETE trials (``k`` the
  cache's limit, ``rebreed_after``); while none has, every mean beats it;
* the *challenger* is the model with the best mean among those with fewer than ``k`` live
  (COMPLETE or RUNNING) trials; ties go to the model measured first.

Measuring the challenger while its mean is at least the incumbent's keeps the number of models
with ``k`` measurements small, and the best mean among them (:mod:`nasga.results.best`'s rule) less
often a lucky one: the winner's curse grows with the number of contenders.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable

from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nasga.samplers.ga.breeding import model_values, selection_values


def model_means(trials: Iterable[FrozenTrial], identity: Callable[[FrozenTrial], Hashable],
                direction: StudyDirection
                ) -> tuple[dict[Hashable, float], dict[Hashable, FrozenTrial], Counter[Hashable]]:
    """Per model of the COMPLETE trials with a value, first measured first: its mean
    (:func:`~nasga.samplers.ga.breeding.model_values`, non-finite ones clipped as
    :func:`~nasga.samplers.ga.breeding.adjusted` clips), its latest trial and its number of COMPLETE trials."""
    done = sorted((t for t in trials if t.state == TrialState.COMPLETE and t.value is not None),
                  key=lambda t: t.number)
    latest: dict[Hashable, FrozenTrial] = {}
    count: Counter[Hashable] = Counter()
    for t in done:
        i = identity(t)
        latest[i] = t
        count[i] += 1
    values = model_values(done, identity, direction)
    clipped = selection_values([values[i] for i in latest], nonnegative=False)
    return dict(zip(latest, clipped)), latest, count


def challenger(trials: Iterable[FrozenTrial], identity: Callable[[FrozenTrial], Hashable],
               direction: StudyDirection, live: Counter[Hashable], k: int
               ) -> tuple[FrozenTrial | None, bool]:
    """The latest trial of the challenger and whether its mean is at least the incumbent's.

    Args:
        trials: The study's trials (only COMPLETE ones with a value count).
        identity: A trial's model.
        direction: The study's direction.
        live: COMPLETE or RUNNING trials per model (the trial being sampled left out).
        k: Trials that make a model fully measured (``>= 1``).

    Returns:
        ``(None, False)`` when every measured model has ``k`` live trials.
    """
    means, latest, complete = model_means(trials, identity, direction)
    incumbent = max((m for i, m in means.items() if complete[i] >= k), default=-math.inf)
    pending = [i for i in means if live[i] < k]
    if not pending:
        return None, False
    best = max(pending, key=lambda i: means[i])  # max keeps the first of equal means
    return latest[best], means[best] >= incumbent


__all__ = ["challenger", "model_means"]
