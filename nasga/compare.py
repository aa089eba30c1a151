"""Compare samplers on equal *training* budgets over many seeds (issue 6).

One Optuna study per (sampler, seed), all in one storage, named
``<prefix>-<task>-<sampler>-s<seed>`` so they group in optuna-dashboard. Every sampler drives the
same :class:`~nasga.objective.Objective` with the same ``max_evaluations``, so runs differ in the
sampler only. A run stops when its trainings (trials with ``user_attrs['trained']``) reach the
budget: a trial answered from the cache is free. It also stops when no training is possible any
more (every key of a tabulated space trained ``max_evaluations`` times: ``"exhausted"``), or at
``trial_cap_factor × budget`` trials (a sampler that keeps proposing cached genomes:
``"trial-cap"``). Re-running continues the existing studies (resumable like ``nasga run``).

After each training, the *incumbent* is the genome key that :mod:`nasga.best`'s rule names from
the trainings so far (what ``nasga export`` would return: the best mean observed fitness among
keys trained at least ``min(3, most trainings of any key)`` times); ``best_fitness`` is that
mean, and where the task knows each key's noiseless fitness (the tabular benchmark)
``regret = optimum − true fitness of the incumbent``.

Samplers: nasga's GA with the space's preset (``ga``), the GA with paper 000's breeding scheme
(``ga-unet``: roulette ``f/Σf``, s1/s2/s3 copy/crossover/mutation, elitism) on a Genetic-CNN
space via :class:`BinaryUNetStrategy`, the preset with duplicate elimination, generational
(``ga-dedup``) or steady-state (``ga-steady``), aging evolution (``aging``), and Optuna's
``random``, ``tpe``, ``gp``, ``nsga2``, ``qmc``, ``cmaes`` (:func:`nasga.baselines.make_sampler`).
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from nasga.baselines import SAMPLER_NAMES, make_sampler
from nasga.config import build_space, build_strategy, default_config, default_raw, validate
from nasga.spaces import GeneticCNNSpace, NasgaInputError, Space, UNetSpace
from nasga.strategies import Offspring, UNetStrategy

GA_VARIANTS = {"ga-dedup": "generational", "ga-steady": "steady-state"}
"""nasga's GA with duplicate elimination (``rebreed_after = max_evaluations``), by mode."""
COMPARE_SAMPLERS = ("ga", "ga-unet", *GA_VARIANTS, *[s for s in SAMPLER_NAMES if s != "ga"])
COMPARE_TASKS = ("genetic-cnn-bench", "genetic-cnn", "unet")
MEMORY = "memory"  # storage "memory": in-process, fast, not resumable
COMPARE_ATTR = "nasga_compare"
MAX_FAILURES_IN_A_ROW = 10


@dataclass(frozen=True)
class BinaryUNetStrategy(UNetStrategy):
    """Paper 000's breeding scheme on a binary (Genetic-CNN) genome.

    Paper 000's genome is a channel code plus a binary connection code; a Genetic-CNN genome
    is a connection code only. Breeding runs :meth:`UNetStrategy.breed` unchanged on a proxy
    ``UNetSpace(depth=L+1, channels=(1,))`` whose channel genes have a single value: selection is
    the roulette ``f/Σf`` with elitism, crossover swaps one random piece of the bit string, and
    mutation (``qm=None``) flips one random piece (``qm`` set: per-bit flips, at least one).
    """

    name = "unet-binary"  # type: ignore[misc]

    def breed(self, parents: Sequence[Sequence[int]], fitnesses: Sequence[float], *,
              space: Space, rng: Any) -> list[Offspring]:
        if not isinstance(space, GeneticCNNSpace):
            raise NasgaInputError("strategy", f"{self.name!r} needs a GeneticCNNSpace, got {space!r}")
        pad = [0] * (space.n_bits + 1)
        proxy = UNetSpace(depth=space.n_bits + 1, channels=(1,))
        kids = super().breed([pad + list(p) for p in parents], fitnesses, space=proxy, rng=rng)
        return [Offspring(k.genes[len(pad):], k.operator, k.parents) for k in kids]


def _bench_raw() -> dict[str, Any]:
    from nasga.bench.table import BENCH_STAGES

    return {"study": {"name": "genetic-cnn-bench", "task": "genetic-cnn"},
            "space": {"stages": list(BENCH_STAGES)}, "strategy": {},
            "task": {"task": "genetic-cnn-bench"}}


def task_config(task: str) -> dict[str, Any]:
    """The validated base config of ``--task``: the task's default study, or the benchmark's."""
    if task == "genetic-cnn-bench":
        return validate(_bench_raw())
    if task not in COMPARE_TASKS:
        raise NasgaInputError("task", f"must be one of {', '.join(COMPARE_TASKS)}, got {task!r}")
    return default_config(task)


def config_for(*, task: str | None = None, study_file: str | None = None,
               settings: Sequence[str] = ()) -> dict[str, Any]:
    """The comparison's config: ``--task`` (default the benchmark) or ``--study`` + ``--set``s.

    Each setting is ``TABLE.KEY=VALUE`` with a JSON value (plain text if it is not JSON),
    applied to the unvalidated study file, then validated once
    (:func:`nasga.config.apply_overrides`: ``--set task.data_root=DIR`` switches a built-in
    dataset to the real one, and a missing folder stops here).

    Raises:
        NasgaInputError: Both or a mismatching task/study, a malformed setting, a bad value.
    """
    from nasga.config import apply_overrides, load_raw

    if study_file:
        if task is not None:
            raise NasgaInputError("task", f"give --task or --study, not both (got {task!r})")
        cfg = load_raw(study_file)
    else:
        task = task or "genetic-cnn-bench"
        if task not in COMPARE_TASKS:
            raise NasgaInputError("task", f"must be one of {', '.join(COMPARE_TASKS)}, got {task!r}")
        cfg = _bench_raw() if task == "genetic-cnn-bench" else default_raw(task)
    return apply_overrides(cfg, settings=settings)


def task_label(cfg: dict[str, Any]) -> str:
    """``genetic-cnn-bench``, ``genetic-cnn``, ``unet`` or the config's task name."""
    return str(cfg["task"].get("task") or cfg["study"]["task"])


def make_compare_sampler(name: str, *, space: Space, strategy: Any, seed: int,
                         max_evaluations: int | None = 1) -> optuna.samplers.BaseSampler:
    """A sampler of :data:`COMPARE_SAMPLERS`, seeded.

    ``ga-dedup`` / ``ga-steady``: the space's preset, generational or steady-state, re-breeding
    a child whose genome already has ``max_evaluations`` trainings (off when it is ``None``).

    Raises:
        NasgaInputError: Unknown name, or ``ga-unet`` on a U-Net space (use ``ga`` there).
    """
    if name == "ga-unet":
        if not isinstance(space, GeneticCNNSpace):
            raise NasgaInputError("samplers", "ga-unet is the U-Net preset's breeding on a "
                                  "Genetic-CNN space; on a U-Net space use ga")
        from nasga.sampler import GeneticSampler

        return GeneticSampler(space=space, strategy=BinaryUNetStrategy(), seed=seed)
    if name in GA_VARIANTS:
        from nasga.sampler import GeneticSampler

        return GeneticSampler(space=space, strategy=strategy, seed=seed, mode=GA_VARIANTS[name],
                              rebreed_after=max_evaluations)
    if name not in COMPARE_SAMPLERS:
        raise NasgaInputError("samplers", f"must be among {', '.join(COMPARE_SAMPLERS)}, got {name!r}")
    return make_sampler(name, space=space, strategy=strategy, seed=seed)


@dataclass(frozen=True)
class RunSpec:
    """One (sampler, seed) run of a comparison (picklable, for worker processes)."""

    cfg: dict[str, Any]
    sampler: str
    seed: int
    budget: int
    max_evaluations: int | None
    storage: str
    prefix: str = "compare"
    trial_cap_factor: int = 20

    @property
    def study_name(self) -> str:
        return f"{self.prefix}-{task_label(self.cfg)}-{self.sampler}-s{self.seed}"

    @property
    def trial_cap(self) -> int:
        return self.trial_cap_factor * self.budget

    def identity(self) -> dict[str, Any]:
        """What must match when a study is resumed."""
        return {"sampler": self.sampler, "seed": self.seed, "max_evaluations": self.max_evaluations,
                "space": self.cfg["space"], "task": self.cfg["task"],
                "strategy": self.cfg["strategy"] if self.sampler == "ga" else None}


@dataclass
class RunResult:
    """A finished run: its curve (one row per training) and bookkeeping."""

    sampler: str
    seed: int
    study_name: str
    trainings: int
    trials: int
    wall_seconds: float
    stop_reason: str
    curve: list[dict[str, Any]] = field(default_factory=list)


def _storage(url: str) -> Any:
    if url == MEMORY:
        return optuna.storages.InMemoryStorage()
    from nasga.study import open_storage

    return open_storage(url, heartbeat=False)


def _open_run(spec: RunSpec, sampler: optuna.samplers.BaseSampler, *,
              instant: bool) -> tuple[optuna.Study, optuna.Study | None]:
    """The run's study, and the durable study to write it into at the end (or ``None``).

    A run of an instant task (the tabular benchmark: lookups, no training) is buffered: it runs
    in an in-memory copy of its stored study, and :func:`_flush` appends its new trials and
    attrs to the stored one when it stops. A trial in SQLite costs ~30 commits, which would be
    almost all of such a run's time. A run is then resumed at run granularity: one interrupted
    before its flush starts again from what was stored. A study with unfinished (waiting or
    running) trials is run in place, so no trial is copied twice.
    """
    durable = optuna.create_study(study_name=spec.study_name, storage=_storage(spec.storage),
                                  sampler=sampler, direction="maximize", load_if_exists=True)
    unfinished = any(not t.state.is_finished() for t in durable.get_trials(deepcopy=False))
    if not instant or spec.storage == MEMORY or unfinished:
        return durable, None
    memory = optuna.storages.InMemoryStorage()
    optuna.copy_study(from_study_name=spec.study_name, from_storage=durable._storage,
                      to_storage=memory)
    return optuna.load_study(study_name=spec.study_name, storage=memory, sampler=sampler), durable


def _flush(buffered: optuna.Study, durable: optuna.Study) -> None:
    """Append ``buffered``'s new trials to ``durable``, then its study attrs (stop reason last)."""
    stored = len(durable.get_trials(deepcopy=False))
    durable.add_trials(buffered.get_trials(deepcopy=False)[stored:])
    system = buffered._storage.get_study_system_attrs(buffered._study_id)
    for key, value in system.items():
        durable._storage.set_study_system_attr(durable._study_id, key, value)
    attrs = buffered.user_attrs
    for key in sorted(attrs, key=lambda k: k == "compare_stop_reason"):
        durable.set_user_attr(key, attrs[key])


def _trained(t: FrozenTrial) -> bool:
    return t.state == TrialState.COMPLETE and bool(t.user_attrs.get("trained"))


def incumbent_curve(trials: Sequence[FrozenTrial], *, budget: int,
                    true_fitness: Callable[[str], float] | None = None,
                    optimum: float | None = None) -> list[dict[str, Any]]:
    """Best-so-far after each of the first ``budget`` trainings (in trial order).

    The incumbent is the genome :func:`nasga.best.best_genome` would name from the trainings
    so far (:func:`nasga.best.pick_key`): the best mean ``fitness_raw`` among keys with at
    least ``min(3, most trainings of any key so far)`` trainings (ties: the key trained first);
    with ``max_evaluations = 1`` that is the plain best mean. ``regret`` is
    ``optimum − true_fitness(incumbent)`` when both given: the table mean of the genome the run
    would return.
    """
    from nasga.best import pick_key

    sums: dict[str, list[float]] = {}
    genomes: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for t in sorted((t for t in trials if _trained(t)), key=lambda t: t.number)[:budget]:
        key, value = str(t.user_attrs["key"]), float(t.user_attrs["fitness_raw"])
        acc = sums.setdefault(key, [0.0, 0])
        acc[0] += value
        acc[1] += 1
        genomes.setdefault(key, str(t.user_attrs.get("genome", key)))
        best = pick_key({k: (s / n, int(n)) for k, (s, n) in sums.items()})
        assert best is not None
        row = {"training": len(rows) + 1, "trial": t.number, "fitness": value,
               "best_fitness": sums[best][0] / sums[best][1], "incumbent": genomes[best],
               "regret": math.nan}
        if true_fitness is not None and optimum is not None:
            row["regret"] = optimum - true_fitness(best)
        rows.append(row)
    return rows


def run_one(spec: RunSpec) -> RunResult:
    """Run (or continue) one study until its budget, the trial cap, or exhaustion."""
    from nasga.objective import Objective
    from nasga.tasks import build_task

    cfg = spec.cfg
    space = build_space(cfg)
    strategy = build_strategy(cfg)
    task = build_task(space, cfg["task"])
    sampler = make_compare_sampler(spec.sampler, space=space, strategy=strategy, seed=spec.seed,
                                   max_evaluations=spec.max_evaluations)
    study, durable = _open_run(spec, sampler, instant=bool(getattr(task, "instant", False)))
    stored = study.user_attrs.get(COMPARE_ATTR)
    identity = copy.deepcopy(spec.identity())
    if stored is not None and stored != json.loads(json.dumps(identity)):
        raise NasgaInputError("study_name", f"study {spec.study_name!r} exists with other settings"
                              f" ({stored}); use another --out/--storage or the same settings")
    study.set_user_attr(COMPARE_ATTR, identity)
    bench = getattr(task, "bench", None)
    possible = (bench.n_keys * spec.max_evaluations
                if bench is not None and spec.max_evaluations is not None else None)
    objective = Objective(space=space, task=task, max_evaluations=spec.max_evaluations,
                          seed=spec.seed)
    trials = study.get_trials(deepcopy=False)
    state = {"trainings": sum(_trained(t) for t in trials), "fails": 0,
             "trials": sum(t.state.is_finished() for t in trials)}
    reason: list[str] = []
    last_failure: list[str] = []

    def check() -> bool:
        if state["trainings"] >= spec.budget:
            reason.append("budget")
        elif possible is not None and state["trainings"] >= possible:
            reason.append("exhausted")
        elif state["trials"] >= spec.trial_cap:
            reason.append("trial-cap")
        elif state["fails"] >= MAX_FAILURES_IN_A_ROW:
            reason.append("failures")
        return bool(reason)

    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        state["trials"] += 1
        state["fails"] = state["fails"] + 1 if trial.state == TrialState.FAIL else 0
        last_failure[:] = [str(trial.user_attrs.get("fail_reason", "see the log"))]
        state["trainings"] += _trained(trial)
        if check():
            study.stop()

    start = time.perf_counter()
    while not check():
        study.optimize(objective, n_trials=spec.trial_cap - state["trials"], callbacks=[callback])
    if reason[0] == "failures":
        raise RuntimeError(f"{spec.study_name}: {MAX_FAILURES_IN_A_ROW} trials failed in a row; "
                           f"last reason: {last_failure[0]}")
    wall = float(study.user_attrs.get("compare_wall_seconds", 0.0)) + time.perf_counter() - start
    study.set_user_attr("compare_wall_seconds", wall)
    study.set_user_attr("compare_stop_reason", reason[0])
    if durable is not None:
        _flush(study, durable)
    trials = study.get_trials(deepcopy=False)
    true_fitness = getattr(task, "true_fitness", None)
    curve = incumbent_curve(trials, budget=spec.budget, true_fitness=true_fitness,
                            optimum=task.optimum() if true_fitness is not None else None)
    return RunResult(spec.sampler, spec.seed, spec.study_name, state["trainings"],
                     sum(t.state.is_finished() for t in trials), wall, reason[0], curve)


@dataclass
class Comparison:
    """Every run of a comparison, and where its files went."""

    task: str
    budget: int
    max_evaluations: int | None
    results: list[RunResult]
    optimum: float | None
    csv_path: Path | None = None
    html_path: Path | None = None

    @property
    def samplers(self) -> list[str]:
        return list(dict.fromkeys(r.sampler for r in self.results))


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
            trial_cap_factor: int = 20, write: bool = True,
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
        trial_cap_factor: A run stops at ``trial_cap_factor × budget`` trials.
        write: Write the CSV and HTML.
        log: Progress lines.

    Raises:
        NasgaInputError: A bad argument (the message names it).
    """
    from nasga import compare_report as report

    names = list(dict.fromkeys(samplers))
    for name in names:
        if name not in COMPARE_SAMPLERS:
            raise NasgaInputError("samplers", f"must be among {', '.join(COMPARE_SAMPLERS)}, "
                                  f"got {name!r}")
    if not names:
        raise NasgaInputError("samplers", "need at least one sampler")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise NasgaInputError("seeds", f"need at least one seed, got {seeds!r}")
    for field_, value, low in (("budget", budget, 1), ("workers", workers, 1),
                               ("trial_cap_factor", trial_cap_factor, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise NasgaInputError(field_, f"must be an integer >= {low}, got {value!r}")
    if max_evaluations is not None and (not isinstance(max_evaluations, int) or max_evaluations < 1):
        raise NasgaInputError("max_evaluations", f"must be >= 1 or None, got {max_evaluations!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    url = storage or default_storage_url(out)
    if url != MEMORY:
        from nasga.study import storage_kind

        if workers > 1 and storage_kind(url) == "sqlite":
            raise NasgaInputError("storage", f"SQLite is for one process; --workers {workers} "
                                  "needs journal:///FILE.log, postgresql:// or memory")
    specs = [RunSpec(cfg, s, seed, budget, max_evaluations, url, prefix, trial_cap_factor)
             for s in names for seed in seed_list]
    results: list[RunResult] = []

    def done(r: RunResult) -> None:
        results.append(r)
        last = r.curve[-1] if r.curve else {}
        log(f"{r.study_name}: {r.trainings} trainings in {r.trials} trials, {r.wall_seconds:.1f} s"
            f" ({r.stop_reason}); best {last.get('best_fitness', math.nan):.4f}"
            + (f" regret {last['regret']:.4f}" if not math.isnan(last.get("regret", math.nan))
               else ""))

    if workers == 1:
        for spec in specs:
            done(run_one(spec))
    else:
        import multiprocessing

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        threads = max(1, (cores or 1) // workers)

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(threads,)) as pool:
            for r in pool.map(run_one, specs):
                done(r)
    optimum = _optimum(cfg)
    cmp = Comparison(task_label(cfg), budget, max_evaluations, results, optimum)
    if write:
        cmp.csv_path = report.write_csv(out / "compare.csv", cmp)
        cmp.html_path = report.write_html(out / "compare.html", cmp)
    return cmp


def _init_worker(threads: int) -> None:
    """Quiet Optuna; share the cores (GP and the training tasks use torch threads)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def _optimum(cfg: dict[str, Any]) -> float | None:
    from nasga.tasks import build_task

    task = build_task(build_space(cfg), cfg["task"])
    return float(task.optimum()) if hasattr(task, "true_fitness") else None


__all__ = ["COMPARE_SAMPLERS", "COMPARE_TASKS", "MEMORY", "BinaryUNetStrategy", "Comparison",
           "RunResult", "RunSpec", "compare", "config_for", "incumbent_curve", "make_compare_sampler",
           "run_one", "task_config", "task_label"]
