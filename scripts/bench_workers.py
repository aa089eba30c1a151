#!/usr/bin/env python
"""Worker scaling: trials/s of one GA study with W = 1, 2, 4, 8 ``nasga worker`` processes.

The objective is the synthetic task with a fixed duration (``--sleep`` seconds per evaluation,
no CPU use), so the figure measures nasga + Optuna + storage overhead and coordination, not
training. Storages: Optuna's journal file (one machine) and PostgreSQL (a throwaway local
server from Debian's postgresql-15, started and stopped here; or ``--postgres URL``).
Throughput is children evaluated per second, counted from the first trial's start to the last
trial's completion, as stored, so process start-up (importing torch) is excluded; speed-up is
relative to W = 1 in this run. ``surplus`` counts COMPLETE trials beyond one per child (a child
evaluated twice); ``pruned`` counts trials that workers claimed beyond the last generation and
stopped before evaluating.
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

from nasga.claims import WORK_KEY  # noqa: E402
from nasga.config import validate  # noqa: E402
from nasga.run import open_search  # noqa: E402


def config(name: str, sleep: float, population: int, generations: int) -> dict:
    return validate({
        "study": {"name": name, "task": "genetic-cnn", "seed": 0, "heartbeat_interval": 2,
                  "grace_period": 10},
        "space": {"stages": [3, 4, 5]},
        "strategy": {"population": population, "generations": generations, "max_evaluations": 0},
        "task": {"task": "synthetic", "sleep": sleep},
    })


def measure(url: str, name: str, workers: int, args: argparse.Namespace) -> dict:
    search = open_search(config(name, args.sleep, args.population, args.generations),
                         storage_url=url)
    env = {**os.environ, "NASGA_STORAGE": url, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "nasga.cli", "worker", "--study-name", name,
                               "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(workers)]
    for p in procs:
        p.wait(timeout=1800)
    trials = optuna.load_study(study_name=name, storage=search.study._storage).trials
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    children = {tuple(t.system_attrs[WORK_KEY][::2]) for t in done if WORK_KEY in t.system_attrs}
    start = min(t.datetime_start for t in done)
    end = max(t.datetime_complete for t in done)
    seconds = (end - start).total_seconds()
    return {"workers": workers, "children": len(children), "surplus": len(done) - len(children),
            "pruned": sum(t.state == TrialState.PRUNED for t in trials), "seconds": seconds,
            "per_s": len(children) / seconds, "ok": search.done()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", default="1,2,4,8", help="worker counts")
    p.add_argument("--storages", default="journal,postgresql", help="journal, postgresql")
    p.add_argument("--sleep", type=float, default=0.5, help="seconds per evaluation")
    p.add_argument("--population", type=int, default=16)
    p.add_argument("--generations", type=int, default=4)
    p.add_argument("--postgres", default=None, help="PostgreSQL URL (default: start a local one)")
    args = p.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"synthetic objective: {args.sleep:.2f} s per evaluation, population "
          f"{args.population}, generations 0..{args.generations} "
          f"({args.population * (args.generations + 1)} evaluations), {os.cpu_count()} cores")
    print(f"{'storage':<11} {'W':>2} {'children':>8} {'surplus':>7} {'pruned':>6} {'seconds':>8} "
          f"{'children/s':>10} {'speed-up':>8} {'ideal':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        for kind in args.storages.split(","):
            if kind == "journal":
                urls = {w: f"journal:///{Path(tmp) / f'journal-{w}.log'}" for w in counts}
                rows = [measure(urls[w], f"workers-{w}", w, args) for w in counts]
            else:
                from contextlib import nullcontext

                from tests.postgres import postgres_server, unavailable_reason

                if args.postgres is None and unavailable_reason():
                    print(f"postgresql: skipped ({unavailable_reason()})")
                    continue
                ctx = (nullcontext(args.postgres) if args.postgres
                       else postgres_server(Path(tmp) / "pg"))
                with ctx as url:
                    rows = [measure(url, f"workers-{w}-{time.time_ns()}", w, args) for w in counts]
            base = rows[0]["per_s"]
            for r in rows:
                print(f"{kind:<11} {r['workers']:>2} {r['children']:>8} {r['surplus']:>7} "
                      f"{r['pruned']:>6} {r['seconds']:>8.1f} {r['per_s']:>10.2f} "
                      f"{r['per_s'] / base:>7.2f}x "
                      f"{r['workers']:>5}x" + ("" if r["ok"] else "  (incomplete)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
