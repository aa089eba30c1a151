#!/usr/bin/env python
"""Trainings per hour of Genetic-CNN on digits: K genomes fused into one network vs one at a time.

Issue 28's CPU benchmark. Both sides go through the task's API in one process at one thread
count: ``ClassificationTask.evaluate`` (one genome at a time) and
``ClassificationTask.evaluate_many`` (K genomes fused, :mod:`nasga.tasks.fused`), so both
include building, MAC counting, training and validation. The genomes are random genomes of
``GeneticCNNSpace((3, 4, 5))`` (paper 004's shapes, ``--seed``); genome ``i`` trains with seed
``i``. One-at-a-time is timed before and after the fused rows (``--alone`` genomes each time) and
its rate is the mean of both, so a neighbour's load during one of them counts half.

Columns: ``wall s`` (the row's evaluations), ``trainings/h``, ``train img/s`` (training images
per second of training wall-clock), ``ratio`` (trainings/h over one-at-a-time's) and ``same``:
whether every fused member that was also trained alone got the same ``val_accuracy``,
``val_loss`` and ``train_loss`` (the fused-equals-alone contract, docs/design.md).

Usage: ``python scripts/bench_fused.py [--threads 2] [--ks 1,2,4,8,16,32] [--alone 3]``
(about 4 min on 2 quiet cores); ``--quick``: 2 epochs, K up to 8 (under a minute).

``--search K`` measures the whole path instead: ``nasga run --task genetic-cnn`` (digits, the
default study with ``--population``, ``--generations``, ``--epochs``, ``--max-train`` and
``--seed``), run three times in this process, each in its own SQLite file: one training at a
time, with ``--fuse K``, and one at a time again (its row sums both runs, so a neighbour's
load counts half). Rows: ``wall s`` (the commands), ``trainings`` (trained trials),
``trainings/h``, ``ratio`` and ``same``: whether every trial has the same params, value and
``val_accuracy`` in all three runs (the GA's proposals and each genome's measurements).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from nasga.bench.machine import cpu_model  # noqa: E402
from nasga.cli import Parser, check_min, int_list  # noqa: E402
from nasga.spaces import GeneticCNNSpace  # noqa: E402
from nasga.tasks import Evaluation  # noqa: E402
from nasga.tasks.classification import ClassificationTask  # noqa: E402

CONTRACT = ("val_accuracy", "val_loss", "train_loss")


def _args(argv: list[str] | None) -> argparse.Namespace:
    """The flags, checked before anything runs (one line, exit code 2)."""
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--ks", type=int_list("ks"), default=None,
                   help="fused group sizes (default 1,2,4,8,16,32; --quick: 1,2,4,8)")
    p.add_argument("--alone", type=int, default=None,
                   help="genomes trained one at a time, before and after (default 3; --quick 2)")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default: the task's, 10; --quick: 2)")
    p.add_argument("--max-train", type=int, default=None,
                   help="training images (default: all 1,438)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random genomes (default 0)")
    p.add_argument("--quick", action="store_true", help="2 epochs, K up to 8: under a minute")
    p.add_argument("--search", type=int, default=None, metavar="K",
                   help="time nasga run --task genetic-cnn without and with --fuse K instead")
    p.add_argument("--population", type=int, default=8, help="--search: population (default 8)")
    p.add_argument("--generations", type=int, default=2,
                   help="--search: generations after the first (default 2)")
    args = p.parse_args(argv)
    args.ks = list(args.ks or ([1, 2, 4, 8] if args.quick else [1, 2, 4, 8, 16, 32]))
    args.alone = args.alone if args.alone is not None else (2 if args.quick else 3)
    args.epochs = args.epochs if args.epochs is not None else (2 if args.quick else 10)
    check_min(p, 1, ("--threads", args.threads), ("--ks", args.ks), ("--alone", args.alone),
              ("--epochs", args.epochs), ("--max-train", args.max_train),
              ("--search", args.search))
    check_min(p, 2, ("--population", args.population))
    check_min(p, 0, ("--seed", args.seed), ("--generations", args.generations))
    return args


def _timed(run: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


def _bench(args: argparse.Namespace, workdir: Path) -> list[tuple[str, int, float, float, str]]:
    space = GeneticCNNSpace((3, 4, 5))
    task = ClassificationTask(space, epochs=args.epochs, max_train=args.max_train, device="cpu")
    rng = random.Random(args.seed)
    genomes = [space.random_genome(rng) for _ in range(max(args.ks + [args.alone]))]
    images = args.epochs * len(task.data().y_train)

    def alone() -> tuple[list[Evaluation], float]:
        return _timed(lambda: [task.evaluate(g, seed=i, workdir=workdir)
                               for i, g in enumerate(genomes[:args.alone])])

    task.evaluate_many(genomes[:2], seeds=[0, 1], workdir=workdir)  # warm-up: data, kernels
    first, first_s = alone()
    print(f"... one at a time: {args.alone} in {first_s:.1f} s", flush=True)
    rows: list[tuple[str, int, float, float, str]] = []
    for k in args.ks:
        results, wall = _timed(lambda: task.evaluate_many(genomes[:k], seeds=list(range(k)),
                                                          workdir=workdir))
        same = all(isinstance(r, Evaluation) and all(
            r.measurements[c] == a.measurements[c] for c in CONTRACT)
            for r, a in zip(results, first))
        train_s = sum(r.measurements["train_seconds"] for r in results
                      if isinstance(r, Evaluation))
        rows.append(("fused", k, wall, k * images / train_s, "yes" if same else "NO"))
        print(f"... fused K={k}: {wall:.1f} s", flush=True)
    second, second_s = alone()
    train_s = sum(e.measurements["train_seconds"] for e in first + second)
    rows.insert(0, ("one at a time", 1, (first_s + second_s) / 2,
                    2 * args.alone * images / train_s, "-"))
    return rows


def _search_rows(args: argparse.Namespace, workdir: Path) -> list[tuple[str, int, float, int, str]]:
    """``nasga run --task genetic-cnn`` one training at a time, with ``--fuse K``, and one at a
    time again (its rate is both runs' together, so a neighbour's load counts half)."""
    import optuna

    from nasga.cli import main as nasga

    command = ["run", "--task", "genetic-cnn", "--population", str(args.population),
               "--generations", str(args.generations), "--seed", str(args.seed),
               "--set", f"task.epochs={args.epochs}", "--set", "task.device=\"cpu\"", "--quiet"]
    if args.max_train is not None:
        command += ["--set", f"task.max_train={args.max_train}"]
    runs = []
    for i, k in enumerate((1, args.search, 1)):
        url = f"sqlite:///{workdir / f'run{i}.db'}"
        print(f"... nasga {' '.join(command)} --fuse {k}", flush=True)
        code, wall = _timed(lambda: nasga([*command, "--storage", url, "--fuse", str(k)]))
        if code:
            raise SystemExit(code)
        trials = optuna.load_study(study_name="genetic-cnn", storage=url).trials
        runs.append((wall, sum(bool(t.user_attrs.get("trained")) for t in trials),
                     [(t.number, t.params, t.value, t.user_attrs.get("val_accuracy"))
                      for t in trials]))
    same = "yes" if runs[0][2] == runs[1][2] == runs[2][2] else "NO"
    return [("one at a time", 1, runs[0][0] + runs[2][0], runs[0][1] + runs[2][1], "-"),
            ("fused", args.search, runs[1][0], runs[1][1], same)]


def _search_main(args: argparse.Namespace, load: float) -> None:
    with tempfile.TemporaryDirectory() as d:
        rows = _search_rows(args, Path(d))
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"nasga run --task genetic-cnn (digits, stages (3, 4, 5)), population "
          f"{args.population}, generations 0..{args.generations}, {args.epochs} epochs, seed "
          f"{args.seed}; cpu {cpu_model()}, {args.threads} threads; load average {load:.1f} at "
          f"start, {end_load:.1f} at end")
    print(f"{'mode':14s} {'K':>3s} {'wall s':>8s} {'trainings':>10s} {'trainings/h':>12s} "
          f"{'ratio':>6s} {'same':>5s}")
    base = rows[0][3] / rows[0][2]
    for mode, k, wall, trainings, same in rows:
        print(f"{mode:14s} {k:3d} {wall:8.1f} {trainings:10d} {3600 * trainings / wall:12.0f} "
              f"{trainings / wall / base:6.2f} {same:>5s}")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    threads, omp = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the task keeps this thread count
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    start = time.perf_counter()
    try:
        if args.search is not None:
            _search_main(args, load)
            return 0
        with tempfile.TemporaryDirectory() as d:
            rows = _bench(args, Path(d))
    finally:
        torch.set_num_threads(threads)
        if omp is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = omp
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Genetic-CNN on digits, GeneticCNNSpace((3, 4, 5)) random genomes (seed {args.seed}), "
          f"{args.epochs} epochs; cpu {cpu_model()}, "
          f"{args.threads} threads; load average {load:.1f} at start, {end_load:.1f} at end")
    alone_rate = args.alone / rows[0][2]
    print(f"{'mode':14s} {'K':>3s} {'wall s':>8s} {'trainings/h':>12s} {'train img/s':>12s} "
          f"{'ratio':>6s} {'same':>5s}")
    for mode, k, wall, ips, same in rows:
        per_hour = 3600 * (args.alone if mode != "fused" else k) / wall
        print(f"{mode:14s} {k:3d} {wall:8.1f} {per_hour:12.0f} {ips:12.0f} "
              f"{per_hour / 3600 / alone_rate:6.2f} {same:>5s}")
    print(f"(one at a time: {args.alone} genomes, timed before and after the fused rows; "
          f"total {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
