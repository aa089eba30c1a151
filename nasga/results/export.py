"""Export a study's best genome (space, genome string, key, measurements, config) as JSON; a
multi-objective study's Pareto front, every member, in the same form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna

import nasga.evaluation.records as R
from nasga.errors import check_int, check_out_dir
from nasga.spaces import NasgaInputError
from nasga.storages.storage import CONFIG_ATTR, load_study_config, open_storage


def best_genome_record(storage_url: str, study_name: str, *,
                       loaded: tuple[dict[str, Any], optuna.Study] | None = None
                       ) -> dict[str, Any]:
    """The best genome (:func:`nasga.results.best.best_genome`) with everything needed to rebuild and
    retrain it.

    ``fitness`` is the mean over the genome's ``n_trainings`` measurements, ``confirmed``
    whether they reach :data:`nasga.results.best.MIN_TRAININGS`; ``trial`` and ``measurements`` are
    its latest measurement's. ``loaded``: the stored config and study when already read.

    Raises:
        NasgaInputError: No such study, or no complete trial yet.
    """
    from nasga.results.best import best_genome, one_best

    cfg, study = loaded or _load(storage_url, study_name)
    one_best(study, "train-best", TRAIN_MEMBER_HINT)
    best = best_genome(study)
    if best is None:
        raise NasgaInputError("study_name", f"study {study_name!r} has no complete trial yet")
    attrs = dict(best.trial.user_attrs)
    measurements = _measurements(best.trial)
    return {
        "study_name": study_name,
        "space": cfg["study"]["task"],
        "space_config": cfg.get("space", {}),
        "genome": best.genome,
        "key": attrs.get(R.KEY),
        "fitness": best.fitness,
        "n_trainings": best.n_measurements,
        "confirmed": best.confirmed,
        "trial": best.trial.number,
        "measurements": measurements,
        CONFIG_ATTR: cfg,
    }


TRAIN_MEMBER_HINT = ("`nasga export` lists every front member (genome, key, means); no nasga "
                     "command trains a chosen member on the full training split yet")
"""What ``train-best`` tells a multi-objective study's user
(:func:`nasga.results.best.one_best`)."""


def _load(storage_url: str, study_name: str) -> tuple[dict[str, Any], optuna.Study]:
    """The study's stored config and the study, read-only (one-line errors for a missing or
    foreign study)."""
    storage = open_storage(storage_url, heartbeat=False, create=False, readonly=True)
    cfg = load_study_config(storage, study_name)
    return cfg, optuna.load_study(study_name=study_name, storage=storage)


def _measurements(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """A measurement trial's user attrs but the genome, key and lineage."""
    return {k: v for k, v in trial.user_attrs.items()
            if k not in (R.GENOME, R.KEY) and not k.startswith(R.LINEAGE_PREFIX)}


def export_record(storage_url: str, study_name: str) -> dict[str, Any]:
    """What ``nasga export`` writes: :func:`best_genome_record`, or with several objectives
    :func:`front_record`."""
    loaded = _load(storage_url, study_name)  # once: a big journal is read once
    if len(loaded[1].directions) > 1:
        return front_record(storage_url, study_name, loaded=loaded)
    return best_genome_record(storage_url, study_name, loaded=loaded)


def front_record(storage_url: str, study_name: str, *,
                 loaded: tuple[dict[str, Any], optuna.Study] | None = None) -> dict[str, Any]:
    """A multi-objective study's Pareto front (:func:`nasga.results.best.pareto_front`), every
    member with everything needed to rebuild and retrain it.

    Each member of ``front`` (best first by the first objective) has its ``genome``, ``key``,
    ``values`` (each objective's mean over its ``n_trainings`` measurements, by name),
    ``confirmed`` (at least :data:`nasga.results.best.MIN_TRAININGS` measurements), ``trials``
    (its measurement trials), and ``trial`` and ``measurements`` of its latest measurement.
    ``loaded``: the stored config and study when already read.

    Raises:
        NasgaInputError: No such study, or no complete measurement yet.
    """
    from nasga.results.best import MIN_TRAININGS, objective_names, pareto_front

    cfg, study = loaded or _load(storage_url, study_name)
    front = pareto_front(study)
    if not front:
        raise NasgaInputError("study_name", f"study {study_name!r} has no complete trial yet")
    names = objective_names(study)
    return {
        "study_name": study_name,
        "space": cfg["study"]["task"],
        "space_config": cfg.get("space", {}),
        "objectives": [{"name": n, "direction": d.name.lower()}
                       for n, d in zip(names, study.directions)],
        "min_trainings": MIN_TRAININGS,
        "front": [{"genome": m.genome, "key": m.key, "values": dict(zip(names, m.values)),
                   "n_trainings": m.n_measurements, "confirmed": m.confirmed,
                   "trials": list(m.trials), "trial": m.trial.number,
                   "measurements": _measurements(m.trial)} for m in front],
        CONFIG_ATTR: cfg,
    }


def train_best(storage_url: str, study_name: str, *, out_dir: str | Path,
               epochs: int | None = None, seed: int | None = None) -> dict[str, Any]:
    """Train a study's best genome (:func:`best_genome_record`) on the entire training split
    and save it.

    Paper 000 Alg. 1's output: the searched architecture "after fine-tuning using the entire
    training set". Writes ``model.pt`` (``torch.save`` of the state_dict; load it with
    ``torch.load(path, weights_only=True)``), ``genome.json`` (the export record plus the final
    measurements) and the task's files (e.g. the validation grid) into ``out_dir``.
    """
    import json

    import torch

    from nasga.data.checks import MAX_EPOCHS
    from nasga.search.config import MAX_SEED, load_settings
    from nasga.tasks import NETWORK_TASKS, build_task

    check_out_dir(out_dir)
    if epochs is not None:
        epochs = check_int("epochs", epochs, maximum=MAX_EPOCHS)
    if seed is not None:
        check_int("seed", seed, minimum=0, maximum=MAX_SEED, why="32-bit seeds, as study.seed")
    record = best_genome_record(storage_url, study_name)
    settings = load_settings(record[CONFIG_ATTR])
    if settings.task_name not in NETWORK_TASKS:
        raise NasgaInputError("study_name", f"study {study_name!r} ran the "
                              f"{settings.task_name!r} task, "
                              f"which trains no network to save; train-best takes a study of "
                              f"{' or '.join(NETWORK_TASKS)}")
    task_cfg = {**settings.task, "max_train": None}
    if epochs is not None:
        task_cfg["epochs"] = epochs
    task = build_task(settings.space, task_cfg)
    genome = settings.space.parse(record["genome"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    evaluation = task.evaluate(genome, seed=settings.study.seed if seed is None else int(seed),
                               workdir=out)
    torch.save(evaluation.model.state_dict(), out / "model.pt")
    record["final"] = {"task": task.config(), "measurements": evaluation.measurements}
    (out / "genome.json").write_text(json.dumps(record, indent=2, default=str) + "\n",
                                     encoding="utf-8")
    return record
