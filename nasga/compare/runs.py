"""Compare samplers on equal *training* budgets over many seeds (issue 6).

One Optuna study per (sampler, seed), all in one storage, named
``<prefix>-<task>-<sampler>-s<seed>`` so they group in optuna-dashboard. Every sampler drives the
same :class:`~nasga.evaluation.objective.Objective` with the same ``max_evaluations``, so runs differ in the
sampler only. A run stops when its trainings (trials with ``user_attrs['trained']``) reach the
budget: a trial answered from the cache is free. It also stops when no training is possible any
more (every key of a tabulated space trained ``max_evaluations`` times: ``"exhausted"``), or at
``trial_cap_factor × budget`` trials (a sampler that keeps proposing cached genomes:
``"trial-cap"``). Re-running continues the existing studies (resumable like ``nasga run``).

After each training, the *incumbent* is the genome key that :mod:`nasga.results.best`'s rule names from
the trainings so far (what ``nasga export`` would return: the best mean observed fitness among
keys trained at least ``min(3, most trainings of any key)`` times); ``best_fitness`` is that
mean, and where the task knows each key's noiseless fitness (the tabular benchmark)
``regret = optimum − true fitness of the incumbent``.

Samplers: every name of the one registry (:data:`nasga.samplers.registry.SAMPLERS`), the same
names a study's ``[study] sampler`` takes: nasga's GA and its presets (``ga``, ``ga-unet``,
``ga-dedup``, ``ga-steady``), aging evolution and its presets (``aging``, ``aging-reeval``,
``aging-intensify``) and Optuna's built-ins.
One run is :func:`nasga.compare.run.run_one`; this module builds the configs and runs them all.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import optuna

from nasga.errors import check_int, check_out_dir
from nasga.search.workers import MAX_WORKERS
from nasga.compare.report import Comparison, RunResult
from nasga.compare.run import (
    COMPARE_SAMPLERS, MEMORY, NASGA_SAMPLERS, BinaryUNetStrategy, RunSpec,
    incumbent_curve, make_compare_sampler, run_one, run_pruner, task_label, true_front,
)
from nasga.compare.run import BUDGET_UNITS, TRAININGS
from nasga.samplers.registry import sampler_entry
from nasga.search.config import check_study_name, default_config, default_raw, validate
from nasga.search.settings import Settings
from nasga.spaces import NasgaInputError

COMPARE_TASKS = ("genetic-cnn-bench", "genetic-cnn", "unet")


def _bench_raw(table: str | None = None) -> dict[str, Any]:
    """The benchmark's study: ``table`` (a shipped name or an ``.npz``; default the (3, 4) one)
    with the space of its stages."""
    from nasga.bench.table import DEFAULT_TABLE, BenchTable

    task: dict[str, Any] = {"task": "genetic-cnn-bench"}
    if table is not None and table != DEFAULT_TABLE:
        task["table"] = str(table)
    return {"study": {"name": "genetic-cnn-bench", "task": "genetic-cnn"},
            "space": {"stages": list(BenchTable.load(table or DEFAULT_TABLE).stages)},
            "strategy": {}, "task": task}


def _check_table(task: str | None, table: str | None) -> None:
    if table is not None and task not in (None, "genetic-cnn-bench"):
        raise NasgaInputError("table", f"is a genetic-cnn-bench table; --task {task} trains "
                              f"for real, got table {table!r}")


def task_config(task: str, *, table: str | None = None) -> dict[str, Any]:
    """The validated base config of ``--task``: the task's default study, or the benchmark's
    (``table``: which benchmark table, see :func:`_bench_raw`)."""
    _check_table(task, table)
    if task == "genetic-cnn-bench":
        return validate(_bench_raw(table))
    if task not in COMPARE_TASKS:
        raise NasgaInputError("task", f"must be one of {', '.join(COMPARE_TASKS)}, got {task!r}")
    return default_config(task)


def config_for(*, task: str | None = None, study_file: str | None = None,
               settings: Sequence[str] = (), table: str | None = None) -> dict[str, Any]:
    """The comparison's config: ``--task`` (default the benchmark; ``table`` picks its table)
    or ``--study`` + ``--set``s.

    Each setting is ``TABLE.KEY=VALUE`` with a JSON value (plain text if it is not JSON),
    applied to the unvalidated study file, then validated once
    (:func:`nasga.search.overrides.apply_overrides`: ``--set task.data_root=DIR`` switches a built-in
    dataset to the real one, and a missing folder stops here).

    Raises:
        NasgaInputError: Both or a mismatching task/study, a malformed setting, a bad value.
    """
    from nasga.search.config import load_raw
    from nasga.search.overrides import apply_overrides

    _check_table(task, table)
    if study_file is not None:
        if task is not None or table is not None:
            raise NasgaInputError("task", f"give --task/--table or --study, not both (got "
                                  f"{task or table!r})")
        cfg = load_raw(study_file)
    else:
        task = task or "genetic-cnn-bench"
        if task not in COMPARE_TASKS:
            raise NasgaInputError("task", f"must be one of {', '.join(COMPARE_TASKS)}, got {task!r}")
        cfg = _bench_raw(table) if task == "genetic-cnn-bench" else default_raw(task)
    return apply_overrides(cfg, settings=settings)


def unit_epochs(cfg: dict[str, Any], task: Any, budget_unit: str) -> int | None:
    """The epochs per full training of ``task`` (``cfg``'s, built) when the budget counts
    epochs (else ``None``).

    Raises:
        NasgaInputError: ``budget_unit``: not a unit, or epochs with a task that does not
            train in epochs (a benchmark table without learning curves).
    """
    if budget_unit not in BUDGET_UNITS:
        raise NasgaInputError("budget_unit", f"must be one of {', '.join(BUDGET_UNITS)}, got "
                              f"{budget_unit!r}")
    if budget_unit == TRAININGS:
        return None
    epochs = getattr(task, "epochs", None)
    if not epochs:
        from nasga.bench.table import CURVE_TABLES

        raise NasgaInputError("budget_unit", "epochs needs a task that trains in epochs (a "
                              f"learning-curve table: {', '.join(CURVE_TABLES)}; or a real "
                              f"task); {task_label(cfg)} has none")
    return int(epochs)


def study_settings(objectives: str | None = None, directions: str | None = None,
                   pruner: str | None = None) -> list[str]:
    """``--objectives a,b`` / ``--directions d1,d2`` / ``--pruner p`` as the ``--set`` settings
    ``study.objectives=[...]`` / ``study.directions=[...]`` / ``study.pruner="p"`` (checked
    with the study, by :func:`nasga.evaluation.objectives.check_objectives` and
    :func:`nasga.search.pruners.pruner_table`)."""
    import json

    out = []
    for field_, value in (("objectives", objectives), ("directions", directions)):
        if value is not None:
            names = [n.strip() for n in value.split(",") if n.strip()]
            out.append(f"study.{field_}={json.dumps(names)}")
    if pruner is not None:
        out.append(f"study.pruner={json.dumps(pruner)}")
    return out


def default_storage_url(out_dir: Path) -> str:
    """``journal:///<out>/compare.log``, or ``sqlite:///<out>/compare.db`` where one exists.

    A journal file: appending a run's trials costs ~3 ms each, against ~90 ms in SQLite, and it
    takes ``--workers > 1``. A folder holding an earlier version's SQLite file keeps using it, so
    its comparisons continue.
    """
    if (out_dir / "compare.db").is_file():
        return f"sqlite:///{out_dir / 'compare.db'}"
    return f"journal:///{out_dir / 'compare.log'}"


def compare(cfg: dict[str, Any], *, samplers: Sequence[str], seeds: int | Sequence[int],
            budget: int, out_dir: str | Path, max_evaluations: int | None = 1,
            storage: str | None = None, workers: int = 1, prefix: str = "compare",
            trial_cap_factor: int = 20, write: bool = True, budget_unit: str = TRAININGS,
            log: Callable[[str], None] = print) -> Comparison:
    """Run every (sampler, seed) study to ``budget`` trainings; write the CSV and HTML.

    Args:
        cfg: A validated study config (:func:`task_config`, or a study file's).
        samplers: Names from :data:`COMPARE_SAMPLERS`.
        seeds: A count ``S`` (seeds ``0..S-1``) or explicit seeds.
        budget: Trainings per run (cached trials are free).
        out_dir: Folder of ``compare.csv``, ``compare.html`` and the default SQLite storage.
        max_evaluations: Trainings per genome key before the cache answers, the same for every
            sampler (``None``: every proposal trains).
        storage: Storage URL (default :func:`default_storage_url`); ``"memory"`` keeps
            the studies in this process only (fast, not resumable).
        workers: Processes running (sampler, seed) studies in parallel; needs a journal file,
            PostgreSQL or ``"memory"`` storage when > 1.
        prefix: First part of the study names.
        trial_cap_factor: A run stops at ``trial_cap_factor × budget`` trials (epochs: per
            task ``epochs`` of budget).
        budget_unit: ``trainings`` (cached trials free) or ``epochs`` (the epochs trained: a
            pruned training costs the epochs it ran; needs a task that trains in epochs).
        write: Write the CSV and HTML.
        log: Progress lines.

    Raises:
        NasgaInputError: A bad argument (the message names it).
    """
    from nasga.compare import report

    check_out_dir(out_dir)
    if not isinstance(prefix, str) or not prefix.strip():
        raise NasgaInputError("prefix", f"must be a non-empty study-name prefix, got {prefix!r}")
    check_study_name("prefix", prefix)  # its study names are checked once the samplers are known
    names, seed_list = _check_arguments(samplers, seeds, budget=budget, workers=workers,
                                        trial_cap_factor=trial_cap_factor,
                                        max_evaluations=max_evaluations,
                                        objectives=cfg["study"].get("objectives"))
    settings = Settings.from_config(cfg)
    task = settings.build_task()
    epochs = unit_epochs(cfg, task, budget_unit)
    for name in names:  # the space it searches; a multi-fidelity preset needs a task with
        sampler_entry(name, space=settings.space, field="samplers")  # epochs: before a run
        run_pruner(settings, name, task)
    out = Path(out_dir)
    url = storage or default_storage_url(out)
    if url != MEMORY:
        from nasga.storages.storage import (check_processes, check_url, open_storage,
                                            storage_exists)

        check_processes(url, workers, hint=" or memory")
        if storage is not None:  # the default one lies in OUT, made below
            check_url(url)
            if storage_exists(url):  # a file that is no storage is refused before OUT is made
                open_storage(url, heartbeat=False, create=False, readonly=True)
    specs = [RunSpec(cfg, s, seed, budget, max_evaluations, url, prefix, trial_cap_factor,
                     budget_unit, epochs)
             for s in names for seed in seed_list]
    for spec in specs:  # PREFIX-TASK-SAMPLER-sSEED must be a study name
        check_study_name("prefix", spec.study_name)
    out.mkdir(parents=True, exist_ok=True)
    results: list[RunResult] = []
    for r in _run_all(specs, workers):
        results.append(r)
        log(_line(r))
    cmp = Comparison(task_label(cfg), budget, max_evaluations, results, table_optimum(cfg),
                     objectives=tuple(cfg["study"].get("objectives", ())),
                     budget_unit=budget_unit)
    if write:
        cmp.csv_path = report.write_csv(out / "compare.csv", cmp)
        cmp.html_path = report.write_html(out / "compare.html", cmp)
    return cmp


MAX_SEEDS = 100_000
"""Most seeds (runs per sampler) of one comparison."""
MAX_BUDGET = 10_000_000
"""Largest budget of one run, in trainings or epochs (its regret curve has a row per unit)."""


def _check_arguments(samplers: Sequence[str], seeds: int | Sequence[int], *, budget: int,
                     workers: int, trial_cap_factor: int,
                     max_evaluations: int | None,
                     objectives: Sequence[str] | None = None) -> tuple[list[str], list[int]]:
    """The distinct sampler names and the seed list, every argument checked.

    Raises:
        NasgaInputError: The first bad argument, by name.
    """
    names = list(dict.fromkeys(samplers))
    for name in names:
        refusal = sampler_entry(name, field="samplers").one_objective
        if objectives and refusal:
            raise NasgaInputError("samplers", f"{name} {refusal}; the study has the objectives "
                                  f"{list(objectives)!r}")
    if not names:
        raise NasgaInputError("samplers", "need at least one sampler")
    if isinstance(seeds, int):
        check_int("seeds", seeds, maximum=MAX_SEEDS)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise NasgaInputError("seeds", f"need at least one seed, got {seeds!r}")
    if min(seed_list) < 0:
        raise NasgaInputError("seeds", f"must be integers >= 0, got {min(seed_list)!r}")
    for field_, value, high in (("budget", budget, MAX_BUDGET), ("workers", workers, MAX_WORKERS),
                                ("trial_cap_factor", trial_cap_factor, None)):
        check_int(field_, value, minimum=1, maximum=high)
    if max_evaluations is not None and (not isinstance(max_evaluations, int) or max_evaluations < 1):
        raise NasgaInputError("max_evaluations", f"must be >= 1 or None, got {max_evaluations!r}")
    return names, seed_list


def _run_all(specs: list[RunSpec], workers: int) -> Iterator[RunResult]:
    """Every run's result, in ``specs`` order: in this process, or in ``workers`` spawned ones
    that share the cores."""
    if workers == 1:
        for spec in specs:
            yield run_one(spec)
        return
    import multiprocessing

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, (cores or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker, initargs=(threads,)) as pool:
        yield from pool.map(run_one, specs)


def _line(r: RunResult) -> str:
    last = r.curve[-1] if r.curve else {}
    regret = last.get("regret", math.nan)
    return (f"{r.study_name}: {r.trainings} trainings in {r.trials} trials, {r.wall_seconds:.1f} s"
            f" ({r.stop_reason}); best {last.get('best_fitness', math.nan):.4f}"
            + (f" regret {regret:.4f}" if not math.isnan(regret) else ""))


def _init_worker(threads: int) -> None:
    """Quiet Optuna; share the cores (GP and the training tasks use torch threads)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def table_optimum(cfg: dict[str, Any]) -> float | None:
    """The table optimum regret is measured from: the best noiseless fitness, or with several
    objectives the true front's hypervolume (:func:`nasga.compare.run.true_front`)."""
    settings = Settings.from_config(cfg)
    task = settings.build_task()
    if settings.study.multi_objective:
        truth = true_front(settings, task)
        return None if truth is None else truth.optimum
    return float(task.optimum()) if hasattr(task, "true_fitness") else None


__all__ = ["COMPARE_SAMPLERS", "COMPARE_TASKS", "MEMORY", "NASGA_SAMPLERS", "BinaryUNetStrategy",
           "Comparison", "RunResult", "RunSpec", "compare", "config_for", "default_storage_url",
           "study_settings", "table_optimum", "unit_epochs",
           "incumbent_curve", "make_compare_sampler", "run_one", "task_config", "task_label"]
