"""Export a study's best genome (space, genome string, key, measurements, config) as JSON."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import TrialState

from nasga.spaces import NasgaInputError
from nasga.study import CONFIG_ATTR, load_study_config, open_storage


def best_genome_record(storage_url: str, study_name: str) -> dict[str, Any]:
    """The best COMPLETE trial's genome with everything needed to rebuild and retrain it.

    Raises:
        NasgaInputError: No such study, or no complete trial yet.
    """
    storage = open_storage(storage_url, heartbeat=False)
    cfg = load_study_config(storage, study_name)
    study = optuna.load_study(study_name=study_name, storage=storage)
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    if not complete:
        raise NasgaInputError("study_name", f"study {study_name!r} has no complete trial yet")
    best = max(complete, key=lambda t: (t.value, -t.number))
    attrs = dict(best.user_attrs)
    measurements = {k: v for k, v in attrs.items()
                    if k not in ("genome", "key") and not k.startswith("ga_")}
    return {
        "study_name": study_name,
        "space": cfg["study"]["task"],
        "space_config": cfg.get("space", {}),
        "genome": attrs.get("genome"),
        "key": attrs.get("key"),
        "fitness": best.value,
        "trial": best.number,
        "measurements": measurements,
        CONFIG_ATTR: cfg,
    }
