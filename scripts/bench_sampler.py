"""Sampler overhead at study sizes up to 100,000 trials: ms per trial, nasga vs Optuna's samplers.

Issue 26's bar: at every size nasga's samplers cost at most NSGA-II's ms per trial in the same
run, and their cost grows no faster than NSGA-II's from the smallest size to the largest.

One study per sampler grows in memory through every size in ``--sizes``. Just before each size
``N`` the next 200 trials (``--window``) are timed, so a row is "ms per trial over the 200 trials
ending at N". For the file storages the in-memory study at ``N - window`` is copied
(``optuna.copy_study``, public API) into a fresh journal file (and PostgreSQL database, up to
``--postgres-max``), a new sampler of the same kind opens it as a joining worker would, and its
next ``window`` trials are timed: the first of them (the worker's catch-up: the storage's replay
and the sampler reading the study once) is reported apart as ``join ms``, and ms per trial is
over the rest.

The objective is trivial (the sum of the genes plus a seeded noise, so repeats differ and
intensification has something to do): what is measured is the sampler plus Optuna's trial
bookkeeping and storage I/O. ``tpe`` is run only up to ``--tpe-max`` trials (its cost grows
with every trial by design). Samplers come from :mod:`nasga.samplers.registry`, the one list of
sampler names.

Usage: ``python scripts/bench_sampler.py [--sizes 1000,10000,100000] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasga.cli import Parser, check_min, check_output_file, int_list, name_list  # noqa: E402
from nasga.samplers.ga.strategies import get_strategy  # noqa: E402
from nasga.search.config import MAX_SEED  # noqa: E402
from nasga.samplers.registry import make_sampler  # noqa: E402
from nasga.spaces import GeneticCNNSpace  # noqa: E402
from nasga.storages.storage import open_storage  # noqa: E402

SAMPLERS = ("ga", "ga-steady", "aging", "aging-intensify", "nsga2", "tpe")
STORAGES = ("memory", "journal", "postgres")
SPACE = GeneticCNNSpace((3, 4, 5))


def objective(trial: optuna.Trial) -> float:
    """Sum of the 19 genes plus a noise seeded by the trial number (microseconds)."""
    genes = [trial.suggest_int(n, d.low, d.high) for n, d in SPACE.distributions.items()]
    return sum(genes) + random.Random(trial.number).gauss(0.0, 1.0)


def _study(name: str, storage: BaseStorage, sampler: str, seed: int,
           population: int) -> optuna.Study:
    strategy = get_strategy("genetic-cnn", population=population)
    return optuna.create_study(study_name=name, storage=storage, direction="maximize",
                               load_if_exists=True,
                               sampler=make_sampler(sampler, space=SPACE, strategy=strategy,
                                                    seed=seed))


def _timed(study: optuna.Study, n: int) -> list[float]:
    """Seconds of each of ``n`` trials."""
    out: list[float] = []
    for _ in range(n):
        start = time.perf_counter()
        study.optimize(objective, n_trials=1)
        out.append(time.perf_counter() - start)
    return out


def _row(storage: str, size: int, sampler: str, secs: list[float], join: float | None) -> dict[str, Any]:
    return {"storage": storage, "size": size, "sampler": sampler, "window": len(secs),
            "ms_per_trial": 1000.0 * sum(secs) / len(secs),
            "join_ms": None if join is None else 1000.0 * join}


def _copy_and_time(src: optuna.Study, memory: BaseStorage, url: str, storage: str, size: int,
                   sampler: str, args: argparse.Namespace) -> dict[str, Any]:
    """Copy ``src`` (in ``memory``) into ``url``, open it with a fresh sampler and time
    ``window`` trials."""
    optuna.copy_study(from_study_name=src.study_name, from_storage=memory,
                      to_storage=open_storage(url, heartbeat=False))
    study = _study(src.study_name, open_storage(url, heartbeat=False), sampler, args.seed,
                   args.population)
    secs = _timed(study, args.window + 1)
    return _row(storage, size, sampler, secs[1:], secs[0])


def run_sampler(sampler: str, args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """Grow one in-memory study through every size; time the window before each."""
    rows: list[dict[str, Any]] = []
    name = f"bench-{sampler}"
    memory = optuna.storages.InMemoryStorage()
    study = _study(name, memory, sampler, args.seed, args.population)
    for size in args.sizes:
        if sampler == "tpe" and size > args.tpe_max:
            break
        done = len(study.get_trials(deepcopy=False))
        study.optimize(objective, n_trials=max(0, size - args.window - done))
        for storage in args.storages:
            if storage == "journal":
                url = f"journal:///{tmp / f'{sampler}-{size}.log'}"
                rows.append(_copy_and_time(study, memory, url, storage, size, sampler, args))
            elif storage == "postgres" and args.postgres_url and size <= args.postgres_max:
                url = _fresh_database(args.postgres_url, f"{sampler}_{size}".replace("-", "_"))
                rows.append(_copy_and_time(study, memory, url, storage, size, sampler, args))
        if "memory" in args.storages:
            rows.append(_row("memory", size, sampler, _timed(study, args.window), None))
        else:
            study.optimize(objective, n_trials=args.window)
        print(f"  {sampler} at {size}: " + ", ".join(
            f"{r['storage']} {r['ms_per_trial']:.2f} ms" for r in rows if r["size"] == size),
            file=sys.stderr, flush=True)
    return rows


def _fresh_database(url: str, name: str) -> str:
    """A new empty database ``name`` on the server of ``url``; its URL."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """``vs_nsga2``: ms/trial over NSGA-II's in the same storage and size; ``growth``: ms/trial
    over the same sampler's at the smallest size in the same storage."""
    base = {(r["storage"], r["size"]): r["ms_per_trial"] for r in rows if r["sampler"] == "nsga2"}
    first: dict[tuple[str, str], float] = {}
    for r in sorted(rows, key=lambda r: r["size"]):
        ref = base.get((r["storage"], r["size"]))
        r["vs_nsga2"] = r["ms_per_trial"] / ref if ref else None
        r["growth"] = r["ms_per_trial"] / first.setdefault((r["storage"], r["sampler"]),
                                                            r["ms_per_trial"])


def format_table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'storage':<8} {'size':>7} {'sampler':<16} {'ms/trial':>9} {'vs nsga2':>8} "
            f"{'growth':>7} {'join ms':>9}")
    lines = [head, "-" * len(head)]
    for r in sorted(rows, key=lambda r: (STORAGES.index(r["storage"]), r["size"],
                                         SAMPLERS.index(r["sampler"]))):
        ratio = f"{r['vs_nsga2']:.2f}x" if r["vs_nsga2"] is not None else "-"
        join = f"{r['join_ms']:.0f}" if r["join_ms"] is not None else "-"
        lines.append(f"{r['storage']:<8} {r['size']:>7} {r['sampler']:<16} "
                     f"{r['ms_per_trial']:>9.3f} {ratio:>8} {r['growth']:>6.2f}x {join:>9}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, each checked before anything runs: a bad one is one line and exit code 2."""
    p = Parser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--sizes", type=int_list("sizes"), default=(1000, 10000, 100000))
    p.add_argument("--window", type=int, default=200, help="trials timed before each size")
    p.add_argument("--storages", type=name_list("storages", STORAGES), default="memory,journal")
    p.add_argument("--samplers", type=name_list("samplers", SAMPLERS), default=",".join(SAMPLERS))
    p.add_argument("--population", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tpe-max", type=int, default=10000, help="largest size TPE is run to")
    p.add_argument("--postgres-url", default=None,
                   help="a PostgreSQL server URL (a database per cell is created on it)")
    p.add_argument("--postgres-max", type=int, default=10000)
    p.add_argument("--quick", action="store_true", help="smoke test: sizes 120,240, window 20")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.window = (120, 240), 20
    check_min(p, 1, ("--sizes", args.sizes), ("--window", args.window),
              ("--tpe-max", args.tpe_max), ("--postgres-max", args.postgres_max))
    check_min(p, 2, ("--population", args.population))
    if any(s <= args.window for s in args.sizes) or list(args.sizes) != sorted(set(args.sizes)):
        p.error(f"--sizes: must be increasing and each > --window {args.window}, "
                f"got {','.join(map(str, args.sizes))}")
    if not 0 <= args.seed <= MAX_SEED:
        p.error(f"--seed: must be in 0..2**32-1 = {MAX_SEED}, got {args.seed}")
    if "postgres" in args.storages and not args.postgres_url:
        p.error("--storages: postgres needs --postgres-url, got none")
    check_output_file(p, "--json", args.json)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    print(f"space=GeneticCNNSpace((3, 4, 5)) params={len(SPACE.distributions)} "
          f"population={args.population} seed={args.seed} window={args.window} "
          f"sizes={','.join(map(str, args.sizes))}", flush=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sampler-") as tmp:
        for sampler in args.samplers:
            rows.extend(run_sampler(sampler, args, Path(tmp)))
    add_ratios(rows)
    print(format_table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
