#!/usr/bin/env python
"""Worker scaling: trials/s of one study with W = 1, 2, 4, 8 ``nasga worker`` processes.

Three searches (``--searches``): ``ga`` (GeneticSampler, the paper's generational mode, a barrier
per generation), ``ga-steady`` (GeneticSampler ``mode = "steady-state"``: one child per ticket, no
barrier) and ``aging`` (AgingEvolutionSampler: one child per trial from the most recent
measurements, no barrier). Each study evaluates ``population × (generations + 1)`` children.

The objective is the synthetic task with a fixed duration (``--sleep`` seconds per evaluation,
no CPU use), so the figure measures nasga + Optuna + storage overhead and coordination, not
training. Storages: Optuna's journal file (one machine) and PostgreSQL (a throwaway local
server from Debian's postgresql-15, started and stopped here; or ``--postgres URL``).
Throughput is children evaluated per second, counted from the first trial's start to the last
trial's completion, as stored, so process start-up (importing torch) is excluded; speed-up is
relative to W = 1 of the same search and storage in this run. ``surplus`` counts COMPLETE trials
beyond one per child (GA: a work item evaluated twice; aging: COMPLETE trials beyond the study's
target); ``pruned`` counts trials that workers claimed beyond the last generation and stopped
before evaluating.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import optuna  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from nasga.samplers.ga.claims import work_of  # noqa: E402
from nasga.cli import Parser, check_min, int_list, name_list  # noqa: E402
from nasga.search.config import validate  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402
from nasga.search.run import open_search  # noqa: E402


SEARCHES = {"ga": ("ga", {}), "ga-steady": ("ga", {"mode": "steady-state"}),
            "aging": ("aging", {})}
STORAGES = ("journal", "postgresql")


def config(name: str, sleep: float, population: int, generations: int,
           search: str = "ga") -> dict:
    sampler, strategy = SEARCHES[search]
    return validate({
        "study": {"name": name, "task": "genetic-cnn", "sampler": sampler, "seed": 0,
                  "heartbeat_interval": 2, "grace_period": 10},
        "space": {"stages": [3, 4, 5]},
        "strategy": {"population": population, "generations": generations, "max_evaluations": 0,
                     **strategy},
        "task": {"task": "synthetic", "sleep": sleep},
    })


def measure(url: str, name: str, workers: int, args: argparse.Namespace, kind: str) -> dict:
    search = open_search(config(name, args.sleep, args.population, args.generations, kind),
                         storage_url=url)
    env = {**os.environ, "NASGA_STORAGE": url, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "nasga.cli", "worker", "--study-name", name,
                               "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(workers)]
    for p in procs:
        p.wait(timeout=1800)
    trials = optuna.load_study(study_name=name, storage=search.study._storage).trials
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    if search.is_ga:
        children = len({work_of(t)[::2]
                        for t in done if work_of(t) is not None})
    else:
        children = min(len(done), args.population * (args.generations + 1))
    start = min(t.datetime_start for t in done)
    end = max(t.datetime_complete for t in done)
    seconds = (end - start).total_seconds()
    return {"workers": workers, "children": children, "surplus": len(done) - children,
            "pruned": sum(t.state == TrialState.PRUNED for t in trials), "seconds": seconds,
            "per_s": children / seconds, "ok": search.done()}


def _rows(kind: str, search: str, counts: list[int], args: argparse.Namespace,
          tmp: Path) -> list[dict]:
    """One row per worker count: ``search`` on a fresh study of storage ``kind``."""
    if kind == "journal":
        return [measure(f"journal:///{tmp / f'journal-{search}-{w}.log'}",
                        f"{search}-workers-{w}", w, args, search) for w in counts]
    from contextlib import nullcontext

    from tests.postgres import postgres_server, unavailable_reason

    if args.postgres is None and unavailable_reason():
        print(f"postgresql: skipped ({unavailable_reason()})")
        return []
    ctx = nullcontext(args.postgres) if args.postgres else postgres_server(tmp / f"pg-{search}")
    with ctx as url:
        return [measure(url, f"{search}-workers-{w}-{time.time_ns()}", w, args, search)
                for w in counts]


def _parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--searches", type=name_list("searches", list(SEARCHES)),
                   default=",".join(SEARCHES),
                   help=f"searches among {', '.join(SEARCHES)} (default: all)")
    p.add_argument("--workers", type=int_list("workers"), default=(1, 2, 4, 8),
                   help="worker counts (default 1,2,4,8)")
    p.add_argument("--storages", type=name_list("storages", STORAGES), default=",".join(STORAGES),
                   help="journal, postgresql (default: both)")
    p.add_argument("--sleep", type=float, default=0.5, help="seconds per evaluation")
    p.add_argument("--population", type=int, default=16)
    p.add_argument("--generations", type=int, default=4)
    p.add_argument("--postgres", default=None, help="PostgreSQL URL (default: start a local one)")
    return p


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every flag, before anything runs: one line and exit code 2 for a bad one."""
    check_min(parser, 1, ("--workers", args.workers))
    check_min(parser, 0, ("--sleep", args.sleep))
    flags = {"strategy.population": "--population", "strategy.generations": "--generations"}
    try:
        for search in args.searches:  # population, generations: the study config's own rules
            config("check", args.sleep, args.population, args.generations, search)
    except NasgaInputError as exc:
        parser.error(f"{flags.get(exc.field, exc.field)}: {exc.message}")
    if args.postgres is not None:
        from nasga.storages.storage import redact, storage_kind

        try:
            kind = storage_kind(args.postgres)
        except NasgaInputError as exc:
            parser.error(f"--postgres: {exc.message}")
        if kind != "postgresql":
            parser.error(f"--postgres: must be a postgresql:// URL, got {redact(args.postgres)!r}")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    counts, searches = list(args.workers), args.searches
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"synthetic objective: {args.sleep:.2f} s per evaluation, population "
          f"{args.population}, generations 0..{args.generations} "
          f"({args.population * (args.generations + 1)} evaluations), {os.cpu_count()} cores")
    print(f"{'storage':<11} {'W':>2} {'children':>8} {'surplus':>7} {'pruned':>6} {'seconds':>8} "
          f"{'children/s':>10} {'speed-up':>8} {'ideal':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        for search in searches:
            print(f"search {search}:")
            for kind in args.storages:
                rows = _rows(kind, search, counts, args, Path(tmp))
                base = rows[0]["per_s"] if rows else 0.0
                for r in rows:
                    print(f"{kind:<11} {r['workers']:>2} {r['children']:>8} {r['surplus']:>7} "
                          f"{r['pruned']:>6} {r['seconds']:>8.1f} {r['per_s']:>10.2f} "
                          f"{r['per_s'] / base:>7.2f}x "
                          f"{r['workers']:>5}x" + ("" if r["ok"] else "  (incomplete)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
