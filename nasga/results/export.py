"""Export a study's best genome (space, genome string, key, measurements, config) as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna

import nasga.evaluation.records as R
from nasga.errors import check_int
from nasga.spaces import NasgaInputError
from nasga.storages.storage import CONFIG_ATTR, load_study_config, open_storage


def best_genome_record(storage_url: str, study_name: str) -> dict[str, Any]:
    """The best genome (:func:`nasga.results.best.best_genome`) with everything needed to rebuild and
    retrain it.

    ``fitness`` is the mean over the genome's ``n_trainings`` measurements, ``confirmed``
    whether they reach :data:`nasga.results.best.MIN_TRAININGS`; ``trial`` and ``measurements`` are
    its latest measurement's.

    Raises:
        NasgaInputError: No such study, or no complete trial yet.
    """
    from nasga.results.best import best_genome, one_best

    storage = open_storage(storage_url, heartbeat=False, create=False, readonly=True)
    cfg = load_study_config(storage, study_name)
    study = optuna.load_study(study_name=study_name, storage=storage)
    one_best(study, "exporting or training the best")
    best = best_genome(study)
    if best is None:
        raise NasgaInputError("study_name", f"study {study_name!r} has no complete trial yet")
    attrs = dict(best.trial.user_attrs)
    measurements = {k: v for k, v in attrs.items()
                    if k not in (R.GENOME, R.KEY) and not k.startswith(R.LINEAGE_PREFIX)}
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

    from nasga.search.config import load_settings
    from nasga.tasks import build_task

    record = best_genome_record(storage_url, study_name)
    settings = load_settings(record[CONFIG_ATTR])
    task_cfg = {**settings.task, "max_train": None}
    if epochs is not None:
        task_cfg["epochs"] = check_int("epochs", epochs)
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
