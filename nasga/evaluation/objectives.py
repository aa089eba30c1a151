"""A study's objectives: ``[study] objectives`` and ``directions`` (issue 29; docs/design.md,
"Several objectives").

A study optimizes the task's ``fitness`` (maximized) unless its ``[study]`` table names
several *objectives*: ``"fitness"`` or measurements of the task (``val_accuracy``, ``macs``,
``params``, ``l_gen``...; a task lists them in its ``measurement_names``), each with a
direction, given in ``directions`` or taken from :data:`DIRECTIONS`, the one table of defaults.
The Optuna study is created with those directions and nasga's objective returns one value per
objective: the objective's mean over all of the genome key's measurements (:func:`key_means`),
as the one value is the mean fitness over them (paper 004 §3.2.4). MACs and parameters are
counted before training, so they are exact and equal in every measurement of a key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from optuna.trial import FrozenTrial

import nasga.evaluation.records as R
from nasga.errors import NasgaInputError

FITNESS = "fitness"
"""The task's fitness (``Task.fitness``), each measurement's ``fitness_raw``."""
MAXIMIZE, MINIMIZE = "maximize", "minimize"
DIRECTIONS: dict[str, str] = {
    FITNESS: MAXIMIZE, "val_accuracy": MAXIMIZE, "score": MAXIMIZE, "psnr": MAXIMIZE,
    "ssim": MAXIMIZE, "images_per_second": MAXIMIZE,
    "macs": MINIMIZE, "conv_macs": MINIMIZE, "paper_macs": MINIMIZE, "params": MINIMIZE,
    "l_gen": MINIMIZE, "l_gan": MINIMIZE, "l1": MINIMIZE, "l_gan_eq6": MINIMIZE,
    "train_seconds": MINIMIZE,
}
"""Default directions by name: costs and losses are minimized, accuracy, fitness and image
quality maximized; any other name ending in ``_loss`` is minimized (:func:`default_direction`).
A name without a default needs ``[study] directions``."""
DEFAULT = ((FITNESS,), (MAXIMIZE,))
"""A study without ``[study] objectives``: the fitness, maximized (stored as before)."""


def default_direction(name: str) -> str | None:
    """``name``'s default direction (:data:`DIRECTIONS`; ``*_loss``: minimize), or None."""
    if name in DIRECTIONS:
        return DIRECTIONS[name]
    return MINIMIZE if name.endswith("_loss") else None


def measurement_names(task: Any) -> tuple[str, ...]:
    """The measurements of ``task`` a study may name as objectives (its ``measurement_names``;
    a task without them offers only ``fitness``)."""
    return tuple(getattr(task, "measurement_names", ()))


def check_objectives(objectives: Any, directions: Any, names: Sequence[str], *,
                     pruned: bool = False) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The validated ``(objectives, directions)`` of a ``[study]`` table.

    Args:
        objectives: ``[study] objectives`` (``None``: the fitness alone).
        directions: ``[study] directions`` (``None``: each name's default).
        names: The task's measurement names (``fitness`` is always allowed).
        pruned: The study has a pruner (refused with several objectives: Optuna's
            ``Trial.report`` raises in a multi-objective study).

    Raises:
        NasgaInputError: ``study.objectives`` / ``study.directions`` / ``study.pruner``: an
            unknown name (the task's names listed), a duplicate, none, a single objective
            other than the fitness, directions of the wrong length or value, a name without a
            default direction, or a pruner with several objectives.
    """
    if objectives is None:
        if directions is not None:
            raise NasgaInputError("study.directions", "needs study.objectives (the names the "
                                  f"directions go with), got {directions!r}")
        return DEFAULT
    known = (FITNESS, *names)
    if not isinstance(objectives, list) or not objectives:
        raise NasgaInputError("study.objectives", f"must be a list of 1 or more of "
                              f"{', '.join(known)}, got {objectives!r}")
    for name in objectives:
        if name not in known:
            raise NasgaInputError("study.objectives", f"unknown objective {name!r}; the task "
                                  f"measures {', '.join(known)}")
    if len(set(objectives)) != len(objectives):
        raise NasgaInputError("study.objectives", f"names an objective twice, got {objectives!r}")
    wanted = _directions(objectives, directions)
    if len(objectives) == 1 and (objectives[0], wanted[0]) != (FITNESS, MAXIMIZE):
        raise NasgaInputError("study.objectives", "a single objective is the fitness, "
                              "maximized (name two or more for a multi-objective study), got "
                              f"{objectives!r} {list(wanted)!r}")
    if pruned and len(objectives) > 1:
        raise NasgaInputError("study.pruner", "Optuna refuses pruning in multi-objective "
                              f"studies (Trial.report raises); drop it for {objectives!r}")
    return tuple(objectives), wanted


def _directions(objectives: list[str], directions: Any) -> tuple[str, ...]:
    if directions is None:
        missing = [n for n in objectives if default_direction(n) is None]
        if missing:
            raise NasgaInputError("study.directions", f"{missing[0]!r} has no default "
                                  "direction; give one per objective, e.g. directions = "
                                  f"{[default_direction(n) or MAXIMIZE for n in objectives]!r}")
        return tuple(default_direction(n) or MAXIMIZE for n in objectives)
    if not isinstance(directions, list) or len(directions) != len(objectives) or any(
            d not in (MAXIMIZE, MINIMIZE) for d in directions):
        raise NasgaInputError("study.directions", f"must be {len(objectives)} of maximize / "
                              f"minimize, one per objective {objectives!r}, got {directions!r}")
    return tuple(directions)


def key_means(objectives: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> tuple[float, ...]:
    """Each objective's mean over a key's measurements (their user attrs, in the order the
    objective's one value sums them): ``fitness`` averages ``fitness_raw``, any other name its
    measurement; a missing or non-numeric value makes that mean NaN (the trial then fails)."""
    out = []
    for name in objectives:
        attr = R.FITNESS_RAW if name == FITNESS else name
        values = [_number(row.get(attr)) for row in rows]
        out.append(sum(values) / len(values) if values else math.nan)
    return tuple(out)


def name_metrics(study: Any, names: Sequence[str]) -> None:
    """Optuna's metric names for a multi-objective study: its objectives, which
    ``plot_pareto_front``, optuna-dashboard's Pareto-front plot and
    :func:`nasga.results.best.objective_names` read (``Study.set_metric_names`` is
    experimental in Optuna 5.1: its warning is silenced)."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(names))


def _number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return math.nan


__all__ = ["DEFAULT", "DIRECTIONS", "FITNESS", "check_objectives", "default_direction",
           "key_means", "measurement_names", "name_metrics"]


def objective_values(objectives: Sequence[str], attrs: Mapping[str, Any], value: float,
                     trainings: Callable[[str], list[FrozenTrial]]) -> tuple[float, ...]:
    """A multi-objective trial's values: each objective's mean over the measurements its one
    value (``value``, the mean fitness) averaged (:func:`nasga.evaluation.objectives.key_means`).

    Those are the key's first ``n_evaluations`` measurements, this trial's own last when it is
    one (a training or a reuse): ``trainings(key)`` (:meth:`TrainingIndex.trainings`) only
    ever appends, so its head is what the objective read. A failed trial (``value`` NaN) gets
    NaN for each objective.
    """
    if not math.isfinite(value) or R.N_EVALUATIONS not in attrs:
        return (math.nan,) * len(objectives)
    own = R.is_measurement(attrs)
    done = trainings(str(attrs[R.KEY]))[:int(attrs[R.N_EVALUATIONS]) - own]
    return key_means(objectives, [t.user_attrs for t in done] + ([attrs] if own else []))
