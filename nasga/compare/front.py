"""Hypervolume regret: how far a multi-objective run's front is from the table's (issue 29).

A multi-objective comparison (``nasga compare --objectives val_accuracy,macs``) scores a run
after each training by the front it would return: the genome keys whose *observed* mean
vectors (each objective's mean over the key's measurements so far, as the objective returns
it) no other measured key dominates (:func:`returned_front`: the rule of
:func:`nasga.results.best.pareto_front`, the front ``nasga export`` names, computed
incrementally). Where the task knows every key's noiseless values
(the tabular benchmark's table means, :meth:`~nasga.tasks.tabular.TabularTask.true_values`),
the front is scored on those: ``regret = HV(true front) − HV(true values of the returned
keys)``, both in one fixed normalised space (:class:`TrueFront`). A lucky key that is not on
the true front adds nothing, so, as with one objective, naming is scored as well as finding.

Normalisation: each objective is turned into *lower is better* and scaled by the table's
extremes over all keys, 0 at the best key's value and 1 at the worst; the reference point is
``(1, ..., 1)`` (every key's worst values), so a hypervolume lies in ``[0, 1]``. Hypervolume and
the non-dominated filter come from ``moocore`` (DEAP 1.4's own hypervolume backend,
``deap.benchmarks.tools.hypervolume``), which filters a few hundred points in microseconds; a
run calls it once per training.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import moocore
import numpy as np
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.evaluation.objectives import MAXIMIZE, key_means

REFERENCE = 1.0
"""The reference point's value in every normalised objective: the table's worst value."""


def to_minimised(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """``values`` (rows of objective values) with maximised objectives negated."""
    signs = np.array([-1.0 if d == MAXIMIZE else 1.0 for d in directions])
    return np.asarray(values, dtype=float) * signs


def nondominated_rows(minimised: np.ndarray) -> np.ndarray:
    """A boolean mask of the rows no other row dominates (all objectives minimised; equal
    rows are all kept, as :func:`nasga.results.best.pareto_front` keeps them); rows with a
    non-finite value are never on the front."""
    finite = np.isfinite(minimised).all(axis=1)
    mask = np.zeros(len(minimised), dtype=bool)
    if finite.any():
        mask[finite] = moocore.is_nondominated(minimised[finite], keep_weakly=True)
    return mask


class TrueFront:
    """A table's noiseless objective values, normalised, and the hypervolume of their front.

    Args:
        truth: ``(keys, objectives)`` noiseless values, in the table's row order.
        directions: One Optuna direction per objective.
        row: A genome key's row in ``truth``.

    Attributes:
        optimum: The hypervolume of the table's true front (every key's noiseless values).
    """

    def __init__(self, truth: np.ndarray, directions: Sequence[str],
                 row: Callable[[str], int]) -> None:
        self.directions = tuple(directions)
        self.row = row
        minimised = to_minimised(truth, self.directions)
        self._low = minimised.min(axis=0)
        self._span = np.where(minimised.max(axis=0) > self._low,
                              minimised.max(axis=0) - self._low, 1.0)
        self._normalised = self.normalise(truth)
        self.optimum = self.hypervolume(self._normalised)

    def normalise(self, values: np.ndarray) -> np.ndarray:
        """Values in the normalised, minimised space (0 best key, 1 worst key)."""
        return (to_minimised(values, self.directions) - self._low) / self._span

    @staticmethod
    def hypervolume(normalised: np.ndarray) -> float:
        """The hypervolume of ``normalised`` points against :data:`REFERENCE` (points not
        better than the reference in every objective add nothing)."""
        inside = normalised[(normalised < REFERENCE).all(axis=1)] if len(normalised) else normalised
        if len(inside) == 0:
            return 0.0
        return float(moocore.hypervolume(inside, ref=[REFERENCE] * inside.shape[1]))

    def regret(self, keys: Sequence[str]) -> float:
        """``optimum`` minus the hypervolume of ``keys``' noiseless values."""
        rows = [self.row(k) for k in keys]
        return self.optimum - self.hypervolume(self._normalised[rows])


def returned_front(means: dict[str, tuple[float, ...]], directions: Sequence[str]) -> list[str]:
    """The keys whose mean vectors no other key's dominates, in ``means``' order."""
    keys = list(means)
    if not keys:
        return []
    mask = nondominated_rows(to_minimised(np.array([means[k] for k in keys]), directions))
    return [k for k, on in zip(keys, mask) if on]


def _measurement(t: FrozenTrial, objectives: Sequence[str]) -> tuple[float, ...] | None:
    """A COMPLETE trial's own measurement of each objective (the objective's
    :func:`~nasga.evaluation.objectives.key_means` of this one measurement), or ``None`` (no
    measurement: a cached answer, a failure)."""
    from nasga.results.best import measured_value

    if measured_value(t) is None:
        return None
    return key_means(objectives, [t.user_attrs])


def front_curve(trials: Sequence[FrozenTrial], *, budget: int, objectives: Sequence[str],
                directions: Sequence[str], truth: TrueFront | None = None
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """After each of the first ``budget`` trainings: the returned front's size, its observed
    hypervolume and (with ``truth``) its regret; and the final returned front's keys.

    Each row has the single-objective curve's columns (:func:`nasga.compare.run.incumbent_curve`):
    ``fitness`` is the training's first objective, ``best_fitness`` the returned front's
    hypervolume on its observed means in ``truth``'s normalised space (NaN without ``truth``),
    ``incumbent`` ``"front of N"``.
    """
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    front: list[str] = []
    for t in sorted(trials, key=lambda t: t.number):
        values = _measurement(t, objectives) if t.state == TrialState.COMPLETE else None
        if values is None:
            continue
        key = str(t.user_attrs[R.KEY])
        sums[key] = sums.get(key, 0.0) + np.array(values)
        counts[key] = counts.get(key, 0) + 1
        if not R.trained(t.user_attrs):  # the budget counts trainings only
            continue
        if len(rows) == budget:
            break
        means = {k: tuple(s / counts[k]) for k, s in sums.items()}
        front = returned_front(means, directions)
        observed = regret = math.nan
        if truth is not None:
            observed = truth.hypervolume(truth.normalise(np.array([means[k] for k in front])))
            regret = truth.regret(front)
        rows.append({"training": len(rows) + 1, "trial": t.number, "key": key,
                     "fitness": values[0], "best_fitness": observed,
                     "incumbent": f"front of {len(front)}", "regret": regret})
    return rows, front


__all__ = ["REFERENCE", "TrueFront", "front_curve", "nondominated_rows", "returned_front",
           "to_minimised"]
