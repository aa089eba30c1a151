"""What makes two trials the same model for :class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler`:
the genome's canonical key on a nasga space, else the search space's params.

A child proposed and not yet suggested (or a trial whose params another sampler wrote) is
known by the identity its :data:`~nasga.evaluation.records.CHILD_RECORD` recorded.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial

import nasga.evaluation.records as R
from nasga.spaces import Space

OLD_CHILD_KEY = "nasga:aging:child"
"""Trial system attr of studies before 0.2: the proposed child's identity (now the
``"identity"`` field of the trial's :data:`~nasga.evaluation.records.CHILD_RECORD`)."""


def proposed(trial: FrozenTrial) -> Any:
    """The identity of the child proposed to ``trial`` (``None``: none recorded)."""
    record = trial.system_attrs.get(R.CHILD_RECORD)
    if isinstance(record, dict):
        return record.get("identity")
    return trial.system_attrs.get(OLD_CHILD_KEY)


def trial_identity(space: Space | None, trial: FrozenTrial,
                   search_space: dict[str, BaseDistribution]) -> Any:
    """What makes two trials the same model: the genome key, else the space's params."""
    if space is not None:
        key = trial.user_attrs.get(R.KEY) or proposed(trial)
        if key is None and inside(trial.params, search_space):
            key = space.from_params(trial.params).key
        return key
    if set(search_space) <= set(trial.params):
        return params_identity({n: trial.params[n] for n in search_space})
    return proposed(trial)


def child_identity(space: Space | None, child: dict[str, Any]) -> str:
    """The identity of a proposed child's params."""
    if space is not None:
        return space.from_params(child).key
    return params_identity(child)


def inside(params: dict[str, Any], search_space: dict[str, BaseDistribution]) -> bool:
    """Whether ``params`` hold every parameter of the space, each inside its distribution
    (Optuna's own check, through the public ``optuna.trial.create_trial``)."""
    if not all(name in params for name in search_space):
        return False
    try:
        optuna.trial.create_trial(params={n: params[n] for n in search_space},
                                  distributions=dict(search_space), value=0.0)
    except (ValueError, TypeError):
        return False
    return True


def params_identity(params: dict[str, Any]) -> str:
    """Params as one comparable string (any search space)."""
    return repr(sorted((name, repr(value)) for name, value in params.items()))
