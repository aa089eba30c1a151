#!/usr/bin/env python
"""Trainings per hour with W = 1, 2, 4, 8, 16 ``nasga run`` processes on one device.

For each task (``genetic-cnn``, ``unet``), settings (``paper``: the shipped
``studies/genetic-cnn-cifar10.toml`` / ``studies/unet-paper.toml`` networks, images and batch
sizes; ``default``: ``studies/genetic-cnn.toml`` / ``studies/unet.toml``; ``tiny``: CPU-sized,
for CI) and sampler (``ga``: the generational GA, whose generation barrier caps concurrency at
the population; ``steady``: the same GA with ``mode = "steady-state"``; ``aging``: aging
evolution), the script runs one study per W through the real command line,
``nasga run --workers W --devices DEVICE`` on a journal file in a temporary folder, and reads
the journal afterwards:

* ``trainings``: COMPLETE trials that trained (``trained``);
* ``children``: distinct GA children ``(generation, slot)`` among them (a sampler without
  children: distinct genome keys);
* ``surplus``: trainings beyond one per child (GA), or trainings of a key beyond
  ``max_evaluations`` (other samplers; none when every reappearance trains): work done twice;
* ``beyond``: trainings of trials past the search's last generation (a sampler without a
  generation barrier stops when every generation block is complete, so a fast worker may
  train a few children beyond while a slow one finishes an earlier block); counted in
  ``trainings``, since the device did that work;
* ``seconds``: first trial start to last trial completion, as stored (process start-up, e.g.
  importing torch, is not counted), and ``trainings/h`` from it; ``xW=1``: the ratio to the
  same (task, settings, sampler) row at W = 1 in this run;
* ``img/s``: training images per second over all processes (``n_train × epochs`` summed);
* ``busy``: mean ``utilization.gpu`` of the device from ``nvidia-smi -lms 200`` during the run
  (the share of time one or more kernels ran), ``n/a`` without nvidia-smi or on CPU.

Paper settings run with fewer epochs (``--epochs``, default 1) and generations
(``--generations``, default 1): the wall time of a paper's full protocol is then estimated as
``trainings × paper_epochs / bench_epochs / (trainings/h) / GPUs`` (printed for the best W).

Usage::

    python scripts/bench_gpu.py                          # cuda: paper + default settings
    python scripts/bench_gpu.py --tiny --device cpu --workers 1,2   # CI, < 60 s on 2 cores

``OMP_NUM_THREADS`` is removed from the runs' environment so that nasga's own thread sizing
(``cores // processes``) is what is measured. ``--channels-last`` sets ``NASGA_CHANNELS_LAST=1``
(CUDA only) to compare the memory formats.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nasga.evaluation.records as R  # noqa: E402
from nasga.cli import Parser, check_min, check_output_file, int_list, name_list  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
STUDIES = {("genetic-cnn", "paper"): "genetic-cnn-cifar10", ("unet", "paper"): "unet-paper",
           ("genetic-cnn", "default"): "genetic-cnn", ("unet", "default"): "unet"}
# The papers' full protocols: evaluations (N·(T+1)) and epochs per training.
PAPER = {"genetic-cnn": {"evaluations": 20 * 51, "epochs": 240, "study": "paper 004, N=20, T=50"},
         "unet": {"evaluations": 32 * 101, "epochs": 5, "study": "paper 000, K=32, T=100"}}
TINY_TOML = {
    "genetic-cnn": """
[space]
stages = [3, 4]
[strategy]
population = 4
generations = 1
max_evaluations = 0
[task]
dataset = "digits"
epochs = 1
max_train = 100
""",
    "unet": """
[space]
depth = 6
channels = [8, 16]
[strategy]
population = 4
generations = 1
max_evaluations = 1
[task]
dataset = "photos"
image_size = 64
epochs = 1
batch_size = 4
max_train = 8
max_val = 4
ndf = 8
grid_images = 0
""",
}
SETTINGS = ("paper", "default", "tiny")
SAMPLERS = ("ga", "steady", "aging")
COLUMNS = ("task", "settings", "sampler", "W", "trainings", "children", "surplus", "beyond",
           "seconds", "trainings/h", "xW=1", "img/s", "busy")


class BusySampler:
    """``nvidia-smi --query-gpu=utilization.gpu -lms 200`` in a background thread."""

    def __init__(self, device: str) -> None:
        self.values: list[float] = []
        self.proc: subprocess.Popen | None = None
        exe = shutil.which("nvidia-smi")
        if exe is None or not device.startswith("cuda"):
            return
        index = device.partition(":")[2] or "0"
        self.proc = subprocess.Popen(
            [exe, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "200",
             "-i", index], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.values.append(float(line.strip()))
            except ValueError:
                pass

    def stop(self) -> str:
        if self.proc is None:
            return "n/a"
        self.proc.terminate()
        self.proc.wait()
        return f"{sum(self.values) / len(self.values):.0f}%" if self.values else "n/a"


def study_args(task: str, settings: str, sampler: str, args: argparse.Namespace,
               tmp: Path) -> list[str] | str:
    """The ``nasga run`` config flags of one row, or why it is skipped."""
    flags: list[str] = []
    if settings == "tiny":
        path = tmp / f"tiny-{task}.toml"
        path.write_text(f'[study]\nname = "tiny-{task}"\ntask = "{task}"\nseed = 0\n'
                        + TINY_TOML[task])
        flags += ["--study", str(path)]
    else:
        flags += ["--study", str(ROOT / "studies" / f"{STUDIES[(task, settings)]}.toml")]
        if settings == "paper":
            root = Path(args.cifar10 if task == "genetic-cnn" else args.aligned)
            if not root.exists():
                return f"no data at {root}"
            flags += ["--data-root", str(root), "--set", f"task.epochs={args.epochs}"]
        flags += ["--generations", str(args.generations)]
    if sampler == "steady":
        flags += ["--set", 'strategy.mode="steady-state"']
    elif sampler == "aging":
        flags += ["--sampler", "aging"]
    return flags


def read_journal(log: Path, name: str) -> dict[str, Any]:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    from nasga.samplers.ga.claims import work_of
    from nasga.storages.storage import CONFIG_ATTR

    study = optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(str(log))))
    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    trained = [t for t in done if t.user_attrs.get(R.TRAINED)]
    cfg = study.user_attrs.get(CONFIG_ATTR) or {}
    max_eval = (cfg.get("strategy") or {}).get("max_evaluations")
    last = (cfg.get("strategy") or {}).get("generations")
    beyond = sum(last is not None and (R.lineage(t).get(R.GA_GENERATION) or 0) > last
                 for t in trained)
    if trained and all(work_of(t) is not None for t in trained):
        children = len({work_of(t)[::2] for t in trained})
        surplus = len(trained) - children
    else:
        per_key = Counter(t.user_attrs.get(R.KEY) for t in trained)
        children = len(per_key)
        surplus = 0 if max_eval is None else sum(max(0, n - max_eval) for n in per_key.values())
    if not done:
        return {"trainings": 0, "children": 0, "surplus": 0, "beyond": 0,
                "seconds": float("nan"), "images": 0, "devices": [], "threads": []}
    start = min(t.datetime_start for t in done)
    end = max(t.datetime_complete for t in done)
    return {
        "trainings": len(trained), "children": children, "surplus": surplus, "beyond": beyond,
        "seconds": (end - start).total_seconds(),
        "images": sum(int(t.user_attrs.get("n_train", 0)) * int(t.user_attrs.get("epochs", 1))
                      for t in trained),
        "devices": sorted({str(t.user_attrs.get("device")) for t in trained}),
        "threads": sorted({(t.system_attrs.get("nasga:worker") or {}).get("threads", 0)
                           for t in trained}),
        "processes": len({(t.system_attrs.get("nasga:worker") or {}).get("pid")
                          for t in trained}),
        "max_evaluations": max_eval,
    }


def run_row(task: str, settings: str, sampler: str, workers: int, args: argparse.Namespace,
            tmp: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"task": task, "settings": settings, "sampler": sampler, "W": workers}
    flags = study_args(task, settings, sampler, args, tmp)
    if isinstance(flags, str):
        return {**row, "skipped": flags}
    name = f"bench-{task}-{settings}-{sampler}-w{workers}"
    log = tmp / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if args.channels_last:
        env["NASGA_CHANNELS_LAST"] = "1"
    cmd = [sys.executable, "-m", "nasga.cli", "run", *flags, "--study-name", name,
           "--storage", f"journal:///{log}", "--workers", str(workers), "--devices", args.device,
           "--quiet"]
    busy = BusySampler(args.device)
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True,
                              timeout=args.timeout)
    finally:
        share = busy.stop()
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {**row, "skipped": f"nasga run exited {proc.returncode}: {tail}"}
    out = read_journal(log, name)
    seconds = out["seconds"]
    return {**row, **out, "wall": time.perf_counter() - started, "busy": share,
            "per_hour": out["trainings"] / seconds * 3600 if seconds > 0 else float("nan"),
            "img_per_s": out["images"] / seconds if seconds > 0 else float("nan")}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    base: dict[tuple[str, str, str], float] = {}
    for r in rows:
        key = (r["task"], r["settings"], r["sampler"])
        if "skipped" in r:
            lines.append(f"| {r['task']} | {r['settings']} | {r['sampler']} | {r['W']} | "
                         f"skipped: {r['skipped']} |" + " |" * (len(COLUMNS) - 5))
            continue
        if r["W"] == 1 or key not in base:
            base.setdefault(key, r["per_hour"])
        r["ratio"] = r["per_hour"] / base[key] if base[key] > 0 else float("nan")
        lines.append(f"| {r['task']} | {r['settings']} | {r['sampler']} | {r['W']} | "
                     f"{r['trainings']} | {r['children']} | {r['surplus']} | {r['beyond']} | "
                     f"{r['seconds']:.1f} | "
                     f"{r['per_hour']:,.0f} | {r['ratio']:.2f} | {r['img_per_s']:,.0f} | "
                     f"{r['busy']} |")
    return "\n".join(lines)


def estimates(rows: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """The papers' full protocols on one and on N GPUs, from the best paper-settings row."""
    out = []
    for task, paper in PAPER.items():
        done = [r for r in rows if r["task"] == task and r["settings"] == "paper"
                and "skipped" not in r and r["per_hour"] > 0]
        if not done:
            continue
        best = max(done, key=lambda r: r["per_hour"])
        hours = paper["evaluations"] * paper["epochs"] / args.epochs / best["per_hour"]
        out.append(f"{task} ({paper['study']}): at most {paper['evaluations']} trainings × "
                   f"{paper['epochs']} epochs ≈ {hours:,.1f} h on one GPU (W={best['W']}, "
                   f"{best['sampler']}), {hours / 8:,.1f} h on 8 GPUs (hours / N)")
    return out


def _parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default=None, help="one device: cuda, cuda:N or cpu "
                                                  "(default cuda if available, else cpu)")
    p.add_argument("--workers", type=int_list("workers"), default=(1, 2, 4, 8, 16),
                   help="comma-separated W (processes)")
    p.add_argument("--tasks", type=name_list("tasks", list(PAPER)), default=",".join(PAPER),
                   help="genetic-cnn, unet")
    p.add_argument("--settings", type=name_list("settings", SETTINGS), default=None,
                   help="paper, default, tiny (default: paper,default; tiny with --tiny)")
    p.add_argument("--samplers", type=name_list("samplers", SAMPLERS), default="ga,aging",
                   help="ga, steady, aging")
    p.add_argument("--tiny", action="store_true", help="CPU-sized settings (CI)")
    p.add_argument("--epochs", type=int, default=1, help="paper settings: epochs per training")
    p.add_argument("--generations", type=int, default=1,
                   help="paper/default settings: bred generations per run")
    p.add_argument("--cifar10", default=str(SHARED / "cifar10"), help="CIFAR-10 folder")
    p.add_argument("--aligned", default=str(SHARED / "facades"), help="aligned pix2pix folder")
    p.add_argument("--channels-last", action="store_true", help="set NASGA_CHANNELS_LAST=1")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the rows as JSON")
    return p


def _args(argv: list[str] | None) -> argparse.Namespace:
    """The flags, checked before anything runs (one line, exit code 2), with the defaults of
    ``--settings`` and ``--device`` filled in."""
    p = _parser()
    args = p.parse_args(argv)
    check_min(p, 1, ("--workers", args.workers), ("--epochs", args.epochs))
    check_min(p, 0, ("--generations", args.generations))
    check_min(p, 0, ("--timeout", args.timeout), strict=True)
    check_output_file(p, "--json", args.json or None)
    if args.settings is None:
        args.settings = ["tiny"] if args.tiny else ["paper", "default"]
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if "," in args.device:
        p.error(f"--device: must be one device (cuda, cuda:N or cpu), got {args.device!r}")
    from nasga.search.devices import check_devices, parse_devices

    try:
        check_devices(parse_devices(args.device))
    except NasgaInputError as exc:
        p.error(f"--device: {exc.message}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    counts, tasks, samplers, settings = list(args.workers), args.tasks, args.samplers, args.settings
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"device {args.device}, {cores} CPU cores, W = {counts}, channels_last "
          f"{'on' if args.channels_last else 'off'}, paper epochs {args.epochs}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="nasga-bench-gpu-") as tmp:
        for task in tasks:
            for setting in settings:
                for sampler in samplers:
                    for w in counts:
                        row = run_row(task, setting, sampler, w, args, Path(tmp))
                        rows.append(row)
                        print(f"  {task} {setting} {sampler} W={w}: "
                              + (row.get("skipped") or f"{row['trainings']} trainings in "
                                 f"{row['seconds']:.1f} s, surplus {row['surplus']}"),
                              flush=True)
    print(table(rows))
    for line in estimates(rows, args):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
