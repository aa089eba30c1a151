"""The study's pruner: Optuna's pruners by name, their parameters validated (issue 27).

``[study] pruner`` is a name, or a table with ``name`` and that pruner's parameters::

    [study]
    pruner = {name = "hyperband", reduction_factor = 3}

(``nasga run --pruner hyperband``; ``--set 'study.pruner={"name": "median"}'``). Every task
that trains reports its validation fitness after each epoch
(:data:`nasga.tasks.base.Report`); the pruner reads those values and may stop a training,
which leaves the trial PRUNED (never retried) with ``pruned_at_epoch``. Resources are epochs:
a rung beyond the task's ``epochs`` is refused, and Hyperband's ``max_resource`` is the task's
``epochs``. Optuna refuses pruning in multi-objective studies.

How pruned trials enter each decision is one rule, written in docs/design.md ("Pruning").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from nasga.data.checks import MAX_EPOCHS
from nasga.errors import NasgaInputError, check_int

NONE = "none"
PRUNERS: dict[str, dict[str, int]] = {
    NONE: {},
    "median": {"n_startup_trials": 0, "n_warmup_steps": 0, "interval_steps": 1},
    "successive-halving": {"min_resource": 1, "reduction_factor": 2,
                           "min_early_stopping_rate": 0},
    "hyperband": {"min_resource": 1, "reduction_factor": 2},
}
"""Each pruner's parameters with their smallest allowed value (all integers)."""
_RESOURCE = ("min_resource", "n_warmup_steps")  # in epochs: at most the task's
MAX_PARAMETER = MAX_EPOCHS
"""Largest value of any pruner parameter, the most epochs a task trains: Optuna's successive
halving computes ``reduction_factor ** min_early_stopping_rate`` on every report, which never
ends for huge ones."""


def pruner_table(value: Any, *, epochs: int | None, field: str = "study.pruner"
                 ) -> dict[str, Any]:
    """The stored form of ``[study] pruner``: ``{"name": ..., parameter: value, ...}``.

    Args:
        value: A pruner name or a table with ``name`` and parameters.
        epochs: The task's epochs per training (``None``: the task reports no epochs).

    Raises:
        NasgaInputError: An unknown name or parameter, a bad value, a rung beyond ``epochs``,
            or a pruner for a task that reports no epochs.
    """
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise NasgaInputError(field, f"must be a pruner name or a table with a name, got "
                              f"{value!r}")
    table = dict(value)
    name = table.pop("name", None)
    if not isinstance(name, str) or name not in PRUNERS:
        raise NasgaInputError(field, f"must be one of {', '.join(PRUNERS)}, got {name!r}")
    known = PRUNERS[name]
    for key, val in table.items():
        if key not in known:
            raise NasgaInputError(f"{field}.{key}", f"unknown parameter of the {name} pruner; "
                                  f"known: {', '.join(known) or 'none'}")
        check_int(f"{field}.{key}", val, minimum=known[key], maximum=MAX_PARAMETER,
                  why="the most epochs a task trains")
    if name != NONE and epochs is None:
        raise NasgaInputError(field, f"the task reports no per-epoch values, so nothing can be "
                              f"pruned; got {name!r}")
    for key in _RESOURCE:
        if epochs is not None and table.get(key, 0) > epochs:
            raise NasgaInputError(f"{field}.{key}", f"must be <= the task's epochs ({epochs}): "
                                  f"a rung beyond the last epoch, got {table[key]}")
    return {"name": name, **table}


def study_pruner(value: Any, *, preset: Mapping[str, Any] | None, sampler: str,
                 epochs: int | None, field: str = "study.pruner",
                 sampler_field: str = "study.sampler") -> dict[str, Any] | None:
    """The pruner a study runs under: its own ``[study] pruner`` (``value``; ``None``: not
    set), else its sampler's (``preset``: a multi-fidelity preset such as ``aging-asha``,
    :attr:`nasga.samplers.registry.SamplerEntry.pruner`), validated by :func:`pruner_table`;
    ``None``: no pruner.

    ``field`` names the pruner setting in errors, ``sampler_field`` the sampler setting.

    Raises:
        NasgaInputError: :func:`pruner_table`'s errors; a preset sampler for a task that
            reports no epochs (``sampler_field``), or with the pruner ``none``.
    """
    if preset is not None and epochs is None:
        raise NasgaInputError(sampler_field,
                              f"{sampler} races trainings by their per-epoch values, which the "
                              f"task does not report; got {sampler!r}")
    if value is None:
        value = preset
    if value is None:
        return None
    table = pruner_table(value, epochs=epochs, field=field)
    if table["name"] != NONE:
        return table
    if preset is not None:
        raise NasgaInputError(field, f"{sampler} races its children with a pruner: name one "
                              f"of {', '.join(p for p in PRUNERS if p != NONE)}, or a sampler "
                              f"without one; got 'none'")
    return None


def make_pruner(table: Mapping[str, Any] | None, *, epochs: int | None
                ) -> optuna.pruners.BasePruner:
    """The Optuna pruner of a validated table (``None`` or ``none``: ``NopPruner``)."""
    params = dict(table or {"name": NONE})
    name = params.pop("name")
    if name == "median":
        return optuna.pruners.MedianPruner(**params)
    if name == "successive-halving":
        return optuna.pruners.SuccessiveHalvingPruner(**params)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(max_resource=epochs or "auto", **params)
    return optuna.pruners.NopPruner()


__all__ = ["NONE", "PRUNERS", "make_pruner", "pruner_table", "study_pruner"]
