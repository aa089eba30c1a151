#!/usr/bin/env python
"""Regenerate the shipped tabular benchmarks ``nasga/bench/genetic_cnn_*.npz``.

Trains every canonical key of ``GeneticCNNSpace((3, 4))`` (512 genomes, 186 keys) three times
with the real classification task on scikit-learn's digits (10 epochs, the task's defaults:
SGD lr 0.01 with paper 004's step shape, filters 8/8, dropout 0.5), then prints the table's
spread. Resumable: finished trainings are kept in ``<out>.parts/``; re-running continues.
``--curves`` records every training's validation accuracy and loss after each epoch through
the task's ``report`` callback (issue 27); ``--spread`` then prints, per epoch, the repeat
noise and how well the keys' ranking at that epoch predicts the final one.

Measured on this 2-core CPU: ≈1.9 s per training with ``OMP_NUM_THREADS=1`` in each of two
processes (≈0.95 s per training overall, 558 trainings ≈ 9–10 minutes); one process with two
threads was no faster and suffered more from neighbouring jobs. The 27-epoch curve table
(``genetic_cnn_34_digits_e27``) took 94.8 min of wall time on the machine shared with other
jobs (paused for a while; median 13.5 s per training and worker, 4.2 s at best). The (4, 4)
9-epoch curve table (``genetic_cnn_44_digits_e9``, 961 × 3 trainings) took 65.5 min, the two
cores shared with one niced benchmark process (1.7–3 s per training and worker).

Usage::

    nohup python scripts/make_bench_table.py --workers 2 > /tmp/make_bench_table.log 2>&1 &
    nohup nice -n 19 python scripts/make_bench_table.py --workers 2 --stages 3,4 --epochs 27 \
        --curves --out /tmp/genetic_cnn_34_digits_e27.npz > /tmp/curves.log 2>&1 &
    nohup python scripts/make_bench_table.py --workers 2 --stages 4,4 --epochs 9 --curves \
        --out /tmp/genetic_cnn_44_digits_e9.npz > /tmp/curves44.log 2>&1 &
    python scripts/make_bench_table.py --spread      # print the shipped table's spread only
    python scripts/make_bench_table.py --spread --out nasga/bench/genetic_cnn_34_digits_e27.npz
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasga.bench.table import (  # noqa: E402
    BENCH_STAGES, DEFAULT_TABLE, BenchTable, canonical_genomes, table_path,
)
from nasga.cli import EXIT_BAD_INPUT, Parser, check_min, int_list  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402


def _settings(args: argparse.Namespace) -> dict:
    out = {"stages": list(args.stages), "repeats": args.repeats,
           "task": {"dataset": "digits", "epochs": args.epochs, "device": "cpu"}}
    if args.curves:  # absent otherwise: a table without curves keeps its settings (and parts)
        out["curves"] = True
    return out


def _parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.splitlines()[1])
    p.add_argument("--out", default=str(table_path(DEFAULT_TABLE)), help="the .npz to write")
    p.add_argument("--stages", type=int_list("stages"), default=BENCH_STAGES,
                   help="nodes per stage (default 3,4)")
    p.add_argument("--repeats", type=int, default=3, help="trainings per key (default 3)")
    p.add_argument("--epochs", type=int, default=10, help="epochs per training (default 10)")
    p.add_argument("--workers", type=int, default=2,
                   help="processes, each with OMP_NUM_THREADS=1 (default 2)")
    p.add_argument("--curves", action="store_true",
                   help="record every training's per-epoch validation accuracy and loss")
    p.add_argument("--keep-parts", action="store_true", help="keep <out>.parts/ after assembling")
    p.add_argument("--spread", action="store_true", help="only print the table's spread")
    p.add_argument("--shard", type=int, default=None, help=argparse.SUPPRESS)
    return p


def _check(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every flag, before anything is trained or written: one line and exit code 2."""
    check_min(p, 1, ("--repeats", args.repeats), ("--workers", args.workers))
    if args.shard is not None and not 0 <= args.shard < args.workers:
        p.error(f"--shard: must be in 0..{args.workers - 1} (--workers {args.workers}), "
                f"got {args.shard}")
    if Path(args.out).suffix != ".npz":
        p.error(f"--out: must be a .npz file, got {args.out!r}")
    from nasga.spaces import GeneticCNNSpace
    from nasga.tasks.classification import ClassificationTask

    try:
        space = GeneticCNNSpace(tuple(args.stages))
        canonical_genomes(space)  # refuses a space too large to tabulate
    except NasgaInputError as exc:
        p.error(f"--stages: {exc.message}")
    try:
        ClassificationTask(space, **_settings(args)["task"])
    except NasgaInputError as exc:
        p.error(f"--{exc.field}: {exc.message}" if exc.field == "epochs" else str(exc))


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the table's meta
    if args.spread:
        try:
            _print_spread(BenchTable.load(args.out))
        except NasgaInputError as exc:
            print(f"{p.prog}: error: --out: {exc.message}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return 0
    _check(p, args)
    try:
        return _build(args)
    except NasgaInputError as exc:  # e.g. <out>.parts/ holds results of other settings
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _print_spread(table: BenchTable) -> None:
    """The table's spread and, with learning curves, how much each epoch tells."""
    print(table.spread().line())
    if table.curves is not None:
        from nasga.bench.curves import curve_lines

        print("\n".join(curve_lines(table)))


def _build(args: argparse.Namespace) -> int:
    from nasga.bench.build import assemble, parts_dir, run_shard

    settings = _settings(args)
    if args.shard is not None:  # a worker process
        run_shard(args.out, settings=settings, shard=args.shard, n_shards=args.workers)
        return 0
    start = time.perf_counter()
    if args.workers > 1:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        base = [sys.executable, __file__, "--out", args.out, "--stages",
                ",".join(map(str, args.stages)), "--repeats", str(args.repeats),
                "--epochs", str(args.epochs), "--workers", str(args.workers)]
        base += ["--curves"] if args.curves else []
        from nasga.bench.build import prepare

        prepare(args.out, settings)  # before the workers race to create it
        procs = [subprocess.Popen(base + ["--shard", str(i)], env=env) for i in range(args.workers)]
        codes = [proc.wait() for proc in procs]
        if any(codes):
            print(f"a worker failed (exit codes {codes}); run again to continue", file=sys.stderr)
            return 1
    else:
        run_shard(args.out, settings=settings)
    minutes = (time.perf_counter() - start) / 60
    table = assemble(args.out, settings=settings,
                     extra_meta={"command": "python scripts/make_bench_table.py "
                                 + " ".join(args.argv), "wall_minutes_last_run": round(minutes, 2)})
    if not args.keep_parts:
        shutil.rmtree(parts_dir(args.out), ignore_errors=True)
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out} ({size / 1024:.1f} KiB) in {minutes:.1f} min this run")
    _print_spread(table)
    print(f"optimum key {table.optimum_key()} (genome {table.genomes[table.row(table.optimum_key())]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
