"""Sampler overhead benchmark: milliseconds per trial of ``GeneticSampler`` vs Optuna's samplers.

Every cell (storage, n_trials, sampler) runs a fresh ``maximize`` study of ``n_trials`` trials on
the same genome space with :class:`~nasga.evaluation.objective.Objective` over a no-sleep
:class:`~nasga.tasks.synthetic.SyntheticTask`, so the measured wall time is almost entirely the
sampler plus Optuna's trial bookkeeping plus storage I/O (the objective itself costs microseconds,
but it scans the study's trials for the genome cache, which is the same for every sampler).

Samplers: ``ga`` = :class:`~nasga.samplers.ga.sampler.GeneticSampler` with the space's preset; ``nsga2`` =
``NSGAIISampler``; ``tpe`` = ``TPESampler``. GA and NSGA-II use the same population size.
Storages: ``memory`` (``InMemoryStorage``) and ``sqlite`` (a fresh temporary database file per
cell). The ratio column is ms/trial divided by NSGA-II's ms/trial in the same storage and
n_trials, measured in the same process. A cell that exceeds ``--max-seconds`` stops early
(``study.stop`` from a callback); its ms/trial is over the trials actually run and it is marked
partial.

Usage: ``python scripts/bench_sampler.py [--quick] [--json results.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.samplers import BaseSampler, NSGAIISampler, TPESampler
from optuna.storages import RDBStorage
from optuna.study import Study
from optuna.trial import FrozenTrial

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasga.cli import Parser, check_min, check_output_file, int_list, name_list  # noqa: E402
from nasga.search.config import MAX_SEED  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402
from nasga.evaluation.objective import Objective  # noqa: E402
from nasga.samplers.ga.sampler import GeneticSampler  # noqa: E402
from nasga.spaces import GeneticCNNSpace, Space, UNetSpace  # noqa: E402
from nasga.samplers.ga.strategies import get_strategy  # noqa: E402
from nasga.tasks.synthetic import SyntheticTask  # noqa: E402

SAMPLERS = ("ga", "nsga2", "tpe")
STORAGES = ("memory", "sqlite")


def make_space(name: str) -> tuple[Space, str]:
    """The space and its GA preset name."""
    if name == "unet":
        return UNetSpace(depth=8), "unet"
    return GeneticCNNSpace((3, 4, 5)), "genetic-cnn"


def make_sampler(name: str, space: Space, preset: str, population: int, seed: int) -> BaseSampler:
    if name == "ga":
        return GeneticSampler(space=space, strategy=get_strategy(preset, population=population),
                              seed=seed)
    if name == "nsga2":
        return NSGAIISampler(population_size=population, seed=seed)
    if name == "tpe":
        return TPESampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(SAMPLERS)}")


def run_cell(space_name: str, storage: str, n_trials: int, sampler: str, population: int,
             seed: int, max_seconds: float, tmpdir: Path | None = None) -> dict[str, Any]:
    """Time one study; returns a result row."""
    space, preset = make_space(space_name)
    with tempfile.TemporaryDirectory(prefix="bench-sampler-", dir=tmpdir) as tmp:
        rdb = RDBStorage(f"sqlite:///{Path(tmp) / 'study.db'}") if storage == "sqlite" else None
        study = optuna.create_study(
            direction="maximize", storage=rdb,
            sampler=make_sampler(sampler, space, preset, population, seed),
        )
        objective = Objective(space=space, task=SyntheticTask(space), max_evaluations=1,
                              seed=seed)
        start = time.perf_counter()

        def stop_after(study: Study, _trial: FrozenTrial) -> None:
            if time.perf_counter() - start > max_seconds:
                study.stop()

        study.optimize(objective, n_trials=n_trials, callbacks=[stop_after])
        seconds = time.perf_counter() - start
        ran = len(study.get_trials(deepcopy=False))
        best = study.best_value
        if rdb is not None:  # release the file before the directory goes
            rdb.remove_session()
            rdb.engine.dispose()
    return {
        "space": space_name, "storage": storage, "n_trials": n_trials, "sampler": sampler,
        "trials_run": ran, "partial": ran < n_trials, "seconds": seconds,
        "ms_per_trial": 1000.0 * seconds / max(ran, 1), "best_value": best,
    }


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """``ratio_vs_nsga2`` = ms/trial over NSGA-II's in the same storage and n_trials."""
    base = {(r["storage"], r["n_trials"]): r["ms_per_trial"] for r in rows
            if r["sampler"] == "nsga2"}
    for r in rows:
        ref = base.get((r["storage"], r["n_trials"]))
        r["ratio_vs_nsga2"] = r["ms_per_trial"] / ref if ref else None


def format_table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'storage':<8} {'n_trials':>8} {'sampler':<7} {'seconds':>9} "
            f"{'ms/trial':>9} {'vs nsga2':>8}  note")
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = f"{r['ratio_vs_nsga2']:.2f}x" if r["ratio_vs_nsga2"] is not None else "-"
        note = f"partial: {r['trials_run']} trials ran" if r["partial"] else ""
        lines.append(f"{r['storage']:<8} {r['n_trials']:>8} {r['sampler']:<7} "
                     f"{r['seconds']:>9.2f} {r['ms_per_trial']:>9.3f} {ratio:>8}  {note}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, each checked before anything runs: a bad one is one line and exit code 2."""
    p = Parser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--trials", type=int_list("trials"), default=(1000, 10000))
    p.add_argument("--storages", type=name_list("storages", STORAGES), default=",".join(STORAGES))
    p.add_argument("--samplers", type=name_list("samplers", SAMPLERS), default=",".join(SAMPLERS))
    p.add_argument("--space", choices=("gcnn", "unet"), default="gcnn",
                   help="gcnn: GeneticCNNSpace((3,4,5)), 19 bits; unet: UNetSpace(depth=8)")
    p.add_argument("--population", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=300.0,
                   help="stop a cell after this many seconds and mark it partial")
    p.add_argument("--tmpdir", type=Path, default=None,
                   help="where the SQLite files go (default: the system temp dir; on a disk "
                   "each commit's fsync dominates, /dev/shm isolates the CPU cost)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 200 trials per cell, at most 10 s per cell")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = p.parse_args(argv)
    _check(p, args)
    if args.quick:
        args.trials = [200]
        args.max_seconds = min(args.max_seconds, 10.0)
    return args


def _check(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    check_min(p, 1, ("--trials", args.trials))
    check_min(p, 0, ("--max-seconds", args.max_seconds), strict=True)
    if not 0 <= args.seed <= MAX_SEED:
        p.error(f"--seed: must be in 0..2**32-1 = {MAX_SEED}, got {args.seed}")
    try:
        get_strategy(make_space(args.space)[1], population=args.population)
    except NasgaInputError as exc:
        p.error(f"--population: {exc.message}")
    if args.tmpdir is not None and not args.tmpdir.is_dir():
        p.error(f"--tmpdir: must be an existing folder, got {str(args.tmpdir)!r}")
    check_output_file(p, "--json", args.json)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.logging.disable_default_handler()
    space, _ = make_space(args.space)
    print(f"space={space!r} params={len(space.distributions)} population={args.population} "
          f"seed={args.seed} max_seconds={args.max_seconds:g} "
          f"sqlite_dir={args.tmpdir or tempfile.gettempdir()}", flush=True)
    rows: list[dict[str, Any]] = []
    for storage in args.storages:
        for n_trials in args.trials:
            for sampler in args.samplers:
                row = run_cell(args.space, storage, n_trials, sampler, args.population,
                               args.seed, args.max_seconds, args.tmpdir)
                rows.append(row)
                print(f"  done {storage}/{n_trials}/{sampler}: {row['seconds']:.1f}s "
                      f"({row['trials_run']} trials)", file=sys.stderr, flush=True)
    add_ratios(rows)
    print(format_table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
