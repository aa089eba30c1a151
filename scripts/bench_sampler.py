"""Sampler overhead at study sizes up to 100,000 trials: ms per trial, nasga vs Optuna's samplers.

Issue 26's bar: at every size nasga's samplers cost at most NSGA-II's ms per trial in the same
run, and their cost grows no faster than NSGA-II's from the smallest size to the largest.

Two phases, both resumable (``--snapshots DIR`` keeps what is done):

1. **Fill** (untimed, so it may share the cores): one in-memory study per sampler grows by its
   own sampler through every size in ``--sizes``; at ``N - window`` trials it is saved as a
   journal file ``DIR/<sampler>-<N>.log`` (``optuna.copy_study``, public API).
2. **Time** (run it alone): each snapshot is copied into a fresh storage of each kind in
   ``--storages`` (in memory; a journal file up to ``--journal-max``: a copy of the snapshot
   file; a PostgreSQL database up to ``--postgres-max``: a clone of a template database
   ``snap_<sampler>_<N>`` that the first run copies the snapshot into and keeps), a
   new sampler of the same kind opens it as a joining worker would, and ``window + 1`` trials
   run. The first one (the worker's catch-up: its sampler reads the study once) is reported
   apart as ``join ms``; a row's ms per trial is over the ``window`` trials after it, i.e. the
   trials ending at ``N``. ``--repeats R`` times every cell R times in interleaved rounds (a
   drift in the machine's speed then hits every sampler alike) and a row gives the median (of
   an even count, the upper one), each run kept in the JSON.

The objective is trivial (the sum of the genes plus a noise seeded by the trial number, so
repeats differ and intensification has something to do): what is measured is the sampler plus
Optuna's trial bookkeeping and storage I/O. ``tpe`` is grown only up to ``--tpe-max`` trials (its
cost grows with every trial by design: 100,000 trials would take days) and ``aging-intensify``
up to ``--intensify-max`` (near the 19-bit space's ~56,000 distinct models its rule draws up to
1,000 genomes per trial for an unseen one). Beyond those sizes each joins the study another
sampler grew (:data:`GROWN_BY`: NSGA-II's, plain aging's), which is how a user switching
samplers on a big study meets it; such rows are marked ``*`` and name the sampler that grew it. Samplers come from :mod:`nasga.samplers.registry`, the
one list of sampler names, with the Genetic-CNN preset's population (``--population``).

Usage: ``python scripts/bench_sampler.py --snapshots DIR [--sizes 1000,10000,100000]``
(``--phase fill`` or ``--phase time`` runs one phase).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import shutil
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
from nasga.samplers.registry import make_sampler  # noqa: E402
from nasga.search.config import MAX_SEED  # noqa: E402
from nasga.spaces import GeneticCNNSpace  # noqa: E402
from nasga.storages.storage import open_storage  # noqa: E402

SAMPLERS = ("ga", "ga-steady", "aging", "aging-intensify", "nsga2", "tpe")
STORAGES = ("memory", "journal", "postgres")
SPACE = GeneticCNNSpace((3, 4, 5))
GROWN_BY = {"tpe": "nsga2", "aging-intensify": "aging"}
"""Whose study a sampler joins at sizes beyond the one it grows its own to."""


def objective(trial: optuna.Trial) -> float:
    """Sum of the 19 genes plus a noise seeded by the trial number (microseconds)."""
    genes = [trial.suggest_int(n, d.low, d.high) for n, d in SPACE.distributions.items()]
    return sum(genes) + random.Random(trial.number).gauss(0.0, 1.0)


def _study(storage: BaseStorage, sampler: str, args: argparse.Namespace,
           grown_by: str | None = None) -> optuna.Study:
    strategy = get_strategy("genetic-cnn", population=args.population)
    return optuna.create_study(study_name=f"bench-{grown_by or sampler}", storage=storage,
                               direction="maximize", load_if_exists=True,
                               sampler=make_sampler(sampler, space=SPACE, strategy=strategy,
                                                    seed=args.seed))


def _snapshot(args: argparse.Namespace, sampler: str, size: int) -> Path:
    return args.snapshots / f"{sampler}-{size}.log"


def _sizes(sampler: str, args: argparse.Namespace) -> list[int]:
    """The sizes ``sampler`` grows its own study to."""
    top = {"tpe": args.tpe_max, "aging-intensify": args.intensify_max}.get(sampler)
    return [s for s in args.sizes if top is None or s <= top]


def _grower(sampler: str, size: int, args: argparse.Namespace) -> str | None:
    """The sampler whose snapshot ``sampler`` joins at ``size`` (None: not filled)."""
    for grower in (sampler, GROWN_BY.get(sampler)):
        if grower and size in _sizes(grower, args) and _snapshot(args, grower, size).exists():
            if grower == sampler or size not in _sizes(sampler, args):
                return grower
    return None


def fill(sampler: str, args: argparse.Namespace) -> None:
    """Grow ``sampler``'s study through every size, saving a snapshot at ``size - window``;
    a snapshot already saved is loaded instead of regrown."""
    memory = optuna.storages.InMemoryStorage()
    study = _study(memory, sampler, args)
    for size in _sizes(sampler, args):
        path = _snapshot(args, sampler, size)
        if path.exists():  # resume: continue from the saved study
            memory = optuna.storages.InMemoryStorage()
            optuna.copy_study(from_study_name=f"bench-{sampler}",
                              from_storage=open_storage(f"journal:///{path}", heartbeat=False),
                              to_storage=memory)
            study = _study(memory, sampler, args)
            continue
        done = len(study.get_trials(deepcopy=False))
        start = time.perf_counter()
        study.optimize(objective, n_trials=max(0, size - args.window - done))
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        optuna.copy_study(from_study_name=study.study_name, from_storage=memory,
                          to_storage=open_storage(f"journal:///{partial}", heartbeat=False))
        partial.rename(path)
        print(f"  filled {sampler} to {size - args.window} trials in "
              f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def time_cell(sampler: str, size: int, storage: str, grown_by: str, *,
              args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Copy ``grown_by``'s snapshot into a fresh ``storage``, join it with a new ``sampler``,
    time trials."""
    snapshot = _snapshot(args, grown_by, size)
    if storage == "memory":
        target: BaseStorage = optuna.storages.InMemoryStorage()
        optuna.copy_study(from_study_name=f"bench-{grown_by}", to_storage=target,
                          from_storage=open_storage(f"journal:///{snapshot}", heartbeat=False))
    elif storage == "journal":  # the snapshot is a journal file of the study: a copy of it
        copy = tmp / snapshot.name
        shutil.copyfile(snapshot, copy)
        target = open_storage(f"journal:///{copy}", heartbeat=False)
    else:
        target = open_storage(_fresh_database(args.postgres_url, grown_by, size, snapshot),
                              heartbeat=False)
    study = _study(target, sampler, args, grown_by)
    gc.collect()  # the previous cells' studies must not tax this one's collections
    secs = []
    for _ in range(args.window + 1):
        start = time.perf_counter()
        study.optimize(objective, n_trials=1)
        secs.append(time.perf_counter() - start)
    return {"storage": storage, "size": size, "sampler": sampler, "grown_by": grown_by,
            "window": args.window,
            "ms_per_trial": 1000.0 * sum(secs[1:]) / args.window, "join_ms": 1000.0 * secs[0]}


def _median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One cell's row over its repeats: the (upper) median ms per trial and join, every run kept."""
    ms = sorted(r["ms_per_trial"] for r in runs)
    joins = sorted(r["join_ms"] for r in runs)
    return {**runs[0], "ms_per_trial": ms[len(ms) // 2], "join_ms": joins[len(joins) // 2],
            "runs_ms_per_trial": [r["ms_per_trial"] for r in runs]}


def _fresh_database(url: str, sampler: str, size: int, snapshot: Path) -> str:
    """A new database on the server of ``url`` holding ``sampler``'s study of ``snapshot``; its
    URL. The snapshot is copied once into a template database ``snap_<name>`` (untimed, kept
    on the server: copying 10,000 trials into PostgreSQL takes minutes), then cloned."""
    import sqlalchemy

    name = f"{sampler}_{size}".replace("-", "_")
    base = url.rsplit("/", 1)[0]
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")

    def run(sql: str) -> list[Any]:
        with engine.connect() as conn:
            result = conn.execute(sqlalchemy.text(sql))
            return list(result) if result.returns_rows else []

    template = f"snap_{name}"
    if not run(f"SELECT 1 FROM pg_database WHERE datname = '{template}'"):
        start = time.perf_counter()
        run(f'CREATE DATABASE "{template}_part"')
        part = optuna.storages.RDBStorage(f"{base}/{template}_part")
        optuna.copy_study(from_study_name=f"bench-{sampler}", to_storage=part,
                          from_storage=open_storage(f"journal:///{snapshot}", heartbeat=False))
        part.engine.dispose()  # no connection may stay open on a database renamed
        run(f'ALTER DATABASE "{template}_part" RENAME TO "{template}"')
        print(f"  copied {snapshot.name} into PostgreSQL in {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)
    run(f'DROP DATABASE IF EXISTS "{name}"')
    run(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine.dispose()
    return f"{base}/{name}"


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
        name = r["sampler"] + ("" if r["grown_by"] == r["sampler"] else "*")
        lines.append(f"{r['storage']:<8} {r['size']:>7} {name:<16} "
                     f"{r['ms_per_trial']:>9.3f} {ratio:>8} {r['growth']:>6.2f}x "
                     f"{r['join_ms']:>9.0f}")
    borrowed = sorted({(r["sampler"], r["grown_by"]) for r in rows
                       if r["grown_by"] != r["sampler"]})
    lines += [f"* {s} joined the study {g} grew" for s, g in borrowed]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, each checked before anything runs: a bad one is one line and exit code 2."""
    p = Parser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--sizes", type=int_list("sizes"), default=(1000, 10000, 100000))
    p.add_argument("--window", type=int, default=200, help="trials timed before each size")
    p.add_argument("--storages", type=name_list("storages", STORAGES), default="memory,journal")
    p.add_argument("--samplers", type=name_list("samplers", SAMPLERS), default=",".join(SAMPLERS))
    p.add_argument("--phase", choices=("fill", "time", "both"), default="both")
    p.add_argument("--snapshots", type=Path, default=None,
                   help="folder of the filled studies (default: a temporary one)")
    p.add_argument("--population", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tpe-max", type=int, default=10000, help="largest size TPE is grown to")
    p.add_argument("--intensify-max", type=int, default=30000,
                   help="largest size aging-intensify is grown to")
    p.add_argument("--postgres-url", default=None,
                   help="a PostgreSQL server URL (a database per cell is created on it, cloned "
                        "from a template database kept there)")
    p.add_argument("--postgres-max", type=int, default=10000)
    p.add_argument("--journal-max", type=int, default=100000,
                   help="largest size timed on a journal file (copying 100k trials takes minutes)")
    p.add_argument("--repeats", type=int, default=1,
                   help="time every cell this many times, interleaved; rows give the median")
    p.add_argument("--quick", action="store_true", help="smoke test: sizes 120,240, window 20")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.window = (120, 240), 20
    check_min(p, 1, ("--sizes", args.sizes), ("--window", args.window), ("--repeats", args.repeats),
              ("--tpe-max", args.tpe_max),
              ("--intensify-max", args.intensify_max), ("--postgres-max", args.postgres_max),
              ("--journal-max", args.journal_max))
    check_min(p, 2, ("--population", args.population))
    if any(s <= args.window for s in args.sizes) or list(args.sizes) != sorted(set(args.sizes)):
        p.error(f"--sizes: must be increasing and each > --window {args.window}, "
                f"got {','.join(map(str, args.sizes))}")
    if not 0 <= args.seed <= MAX_SEED:
        p.error(f"--seed: must be in 0..2**32-1 = {MAX_SEED}, got {args.seed}")
    if "postgres" in args.storages and not args.postgres_url:
        p.error("--storages: postgres needs --postgres-url, got none")
    if args.snapshots is not None and not args.snapshots.is_dir():
        p.error(f"--snapshots: must be an existing folder, got {str(args.snapshots)!r}")
    check_output_file(p, "--json", args.json)
    return args


def run(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """The asked phases; the timed rows."""
    if args.phase in ("fill", "both"):
        for sampler in args.samplers:
            fill(sampler, args)
    rows: list[dict[str, Any]] = []
    if args.phase in ("time", "both"):
        cells = []
        for sampler in args.samplers:
            for size in args.sizes:
                grown_by = _grower(sampler, size, args)
                if grown_by is None:
                    print(f"  {sampler} at {size}: not filled, skipped", file=sys.stderr)
                    continue
                cells += [(sampler, size, storage, grown_by) for storage in args.storages
                          if size <= {"postgres": args.postgres_max,
                                      "journal": args.journal_max}.get(storage, size)]
        runs: dict[tuple[str, int, str, str], list[dict[str, Any]]] = {c: [] for c in cells}
        for _ in range(args.repeats):  # interleaved: a drift in machine speed hits every cell
            for cell in cells:
                runs[cell].append(time_cell(*cell, args=args, tmp=tmp))
                print(f"  {cell[0]} at {cell[1]}, {cell[2]}: "
                      f"{runs[cell][-1]['ms_per_trial']:.2f} ms", file=sys.stderr, flush=True)
        rows = [_median_row(r) for r in runs.values()]
        add_ratios(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    print(f"space=GeneticCNNSpace((3, 4, 5)) params={len(SPACE.distributions)} "
          f"population={args.population} seed={args.seed} window={args.window} "
          f"sizes={','.join(map(str, args.sizes))}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-sampler-") as tmp:
        if args.snapshots is None:
            args.snapshots = Path(tmp) / "snapshots"
            args.snapshots.mkdir()
        rows = run(args, Path(tmp))
    if rows:
        print(format_table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
