"""Generate a :class:`~nasga.bench.table.BenchTable` with real trainings, resumably.

Each (key, repeat) job trains the key's representative genome with
:class:`~nasga.tasks.classification.ClassificationTask` under the seed
``evaluation_seed(0, key, repeat)`` (the objective's rule for a study with seed 0); with
``settings["curves"]`` it records each epoch's validation values through the task's ``report``
callback too (:data:`~nasga.tasks.base.Report`; issue 27). Finished jobs
are appended, one JSON line each, to ``<out>.parts/shard-<i>.jsonl`` (flushed and synced), so a
killed run continues where it stopped; shards let several processes share the jobs. When every
job is done, :func:`assemble` writes the ``.npz`` table.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nasga.bench.table import (
    CURVE_FIELDS, KEY_FIELDS, REPEAT_FIELDS, BenchTable, canonical_genomes,
)
from nasga.evaluation.objective import evaluation_seed
from nasga.spaces import GeneticCNNSpace, NasgaInputError

Job = tuple[str, str, int]  # (key, representative genome string, repeat)


def parts_dir(out: str | Path) -> Path:
    """Folder of the partial results of table ``out``."""
    return Path(str(out) + ".parts")


def all_jobs(space: GeneticCNNSpace, repeats: int) -> list[Job]:
    """Every (key, genome, repeat) of the space, keys in enumeration order."""
    return [(k, g.to_string(), r) for k, g in canonical_genomes(space).items()
            for r in range(repeats)]


def read_done(out: str | Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Finished jobs recorded under ``parts_dir(out)`` (a truncated last line is ignored)."""
    done: dict[tuple[str, int], dict[str, Any]] = {}
    folder = parts_dir(out)
    for part in sorted(folder.glob("shard-*.jsonl")) if folder.is_dir() else []:
        for line in part.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[(rec["key"], int(rec["repeat"]))] = rec
    return done


def prepare(out: str | Path, settings: dict[str, Any]) -> Path:
    """Create the parts folder, or check that a resumed run uses the same settings.

    Raises:
        NasgaInputError: The folder holds results made with other settings.
    """
    folder = parts_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != json.loads(json.dumps(settings)):
            raise NasgaInputError("settings", f"{folder} holds results made with {old}, got "
                                  f"{settings}; delete the folder to start over")
    else:
        path.write_text(json.dumps(settings, indent=1), encoding="utf-8")
    return folder


def train_job(task: Any, space: GeneticCNNSpace, job: Job, *, folder: Path, curves: bool
              ) -> dict[str, Any]:
    """One training of a job as its JSON record; with ``curves``, ``curve_<field>`` lists
    hold every epoch's validation values, the last equal to the final measurement."""
    key, text, repeat = job
    seed = evaluation_seed(0, key, repeat)
    seen: dict[str, list[float]] = {f: [] for f in CURVE_FIELDS}

    def record(epoch: int, values: dict[str, Any]) -> None:
        for f in CURVE_FIELDS:
            seen[f].append(float(values[f]))
        if epoch != len(seen[CURVE_FIELDS[0]]):
            raise RuntimeError(f"epoch {epoch} reported out of order")

    extra = {"report": record} if curves else {}
    m = task.evaluate(space.parse(text), seed=seed, workdir=folder, **extra).measurements
    rec = {"key": key, "genome": text, "repeat": repeat, "seed": seed,
           **{f: float(m[f]) for f in REPEAT_FIELDS}, **{f: int(m[f]) for f in KEY_FIELDS}}
    if curves:
        for f in CURVE_FIELDS:
            if len(seen[f]) != task.epochs or seen[f][-1] != rec[f]:
                raise RuntimeError(f"{text} r{repeat}: the curve of {f} ({len(seen[f])} epochs,"
                                   f" last {seen[f][-1:]}) does not end at the final {rec[f]}")
            rec[f"curve_{f}"] = seen[f]
    return rec


def run_shard(out: str | Path, *, settings: dict[str, Any], shard: int = 0, n_shards: int = 1,
              log: Callable[[str], None] = print, task: Any = None) -> int:
    """Train this shard's pending jobs; returns how many it trained.

    Args:
        out: The table's ``.npz`` path (partial results go next to it).
        settings: ``{"stages": [...], "repeats": R, "task": {ClassificationTask settings}}``,
            and ``"curves": True`` to record learning curves.
        shard: This process's shard ``0..n_shards-1`` (jobs ``shard::n_shards`` of the pending).
        n_shards: Processes sharing the work.
        log: Progress lines.
        task: The task that trains (default: ``ClassificationTask(space, **settings["task"])``;
            tests pass a cheap stand-in).
    """
    folder = prepare(out, settings)
    space = GeneticCNNSpace(tuple(settings["stages"]))
    done = read_done(out)
    pending = [j for j in all_jobs(space, int(settings["repeats"])) if (j[0], j[2]) not in done]
    mine = pending[shard::n_shards]
    if task is None:
        from nasga.tasks.classification import ClassificationTask

        task = ClassificationTask(space, **settings["task"])
    curves = bool(settings.get("curves"))
    start = time.perf_counter()
    with open(folder / f"shard-{shard}.jsonl", "a", encoding="utf-8") as fh:
        for n, job in enumerate(mine, start=1):
            job_start = time.perf_counter()
            rec = train_job(task, space, job, folder=folder, curves=curves)
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            rate = (time.perf_counter() - start) / n
            log(f"[shard {shard}] {n}/{len(mine)} {job[1]} r{job[2]} acc "
                f"{rec['val_accuracy']:.4f} ({time.perf_counter() - job_start:.1f}s wall, "
                f"{rec['train_seconds']:.1f}s training; ~{rate * (len(mine) - n) / 60:.1f} min left)")
    return len(mine)


def assemble(out: str | Path, *, settings: dict[str, Any], extra_meta: dict[str, Any] | None = None
             ) -> BenchTable:
    """Write the ``.npz`` table from the finished jobs.

    Raises:
        NasgaInputError: Some jobs are not finished yet (run the shards again).
    """
    space = GeneticCNNSpace(tuple(settings["stages"]))
    repeats = int(settings["repeats"])
    reps = canonical_genomes(space)
    done = read_done(out)
    missing = [(k, r) for k in reps for r in range(repeats) if (k, r) not in done]
    if missing:
        raise NasgaInputError("table", f"{len(missing)} of {len(reps) * repeats} trainings are "
                              "not finished; run the script again to continue")
    keys = list(reps)
    rows = [[done[(k, r)] for r in range(repeats)] for k in keys]
    import torch

    meta = {
        "settings": settings, "space": f"GeneticCNNSpace(stages={tuple(space.stages)})",
        "n_genomes": space.size, "seed_rule": "evaluation_seed(0, key, repeat)",
        "created": time.strftime("%Y-%m-%d %H:%M:%S"), "torch": torch.__version__,
        "numpy": np.__version__, "python": platform.python_version(), **(extra_meta or {}),
    }
    table = BenchTable(
        stages=tuple(space.stages), keys=tuple(keys),
        genomes=tuple(reps[k].to_string() for k in keys),
        repeats={f: np.array([[rec[f] for rec in row] for row in rows], dtype=np.float64)
                 for f in REPEAT_FIELDS},
        per_key={f: np.array([row[0][f] for row in rows], dtype=np.int64) for f in KEY_FIELDS},
        meta=meta,
        curves={f: np.array([[rec[f"curve_{f}"] for rec in row] for row in rows],
                            dtype=np.float64) for f in CURVE_FIELDS}
        if settings.get("curves") else None,
    )
    table.save(out)
    return table


__all__ = ["all_jobs", "assemble", "parts_dir", "prepare", "read_done", "run_shard", "train_job"]
