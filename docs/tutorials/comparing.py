"""Comparing samplers on equal training budgets: nasga compare on the tabular benchmark.

    python docs/tutorials/comparing.py          # 4 samplers x 10 seeds, 100 trainings each
    python docs/tutorials/comparing.py --tiny   # 2 seeds, 10 trainings (the test suite)

``genetic-cnn-bench`` looks every training up in a table shipped with nasga (each genome of a
small Genetic-CNN space trained 3 times on digits), so a run takes seconds; ``--task
genetic-cnn`` or ``--task unet`` compares on real trainings instead.
"""

import argparse
import csv
import os
import shlex
import statistics
import sys
import tempfile

from nasga.cli import main

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tiny", action="store_true", help="2 seeds, 10 trainings: seconds")
args = parser.parse_args()
os.chdir(tempfile.mkdtemp(prefix="nasga-compare-"))
budget, seeds = (10, 2) if args.tiny else (100, 10)

command = ["compare", "--task", "genetic-cnn-bench", "--samplers", "aging-intensify,ga,tpe,random",
           "--budget", str(budget), "--seeds", str(seeds), "--max-evaluations", "3",
           "--out", "cmp"]
print("$ nasga", shlex.join(command), flush=True)
if code := main(command):
    sys.exit(f"nasga exited with {code}")

# cmp/compare.csv has one row per training: read each run's regret at a few budgets.
rows = list(csv.DictReader(open("cmp/compare.csv", encoding="utf-8")))
print("\nmean regret (table optimum minus the named genome's mean) after N trainings:")
marks = [b for b in (10, 25, 50, 100) if b <= budget]
print(f"{'sampler':>16} " + " ".join(f"{f'N={b}':>7}" for b in marks))
for sampler in dict.fromkeys(r["sampler"] for r in rows):
    means = []
    for b in marks:
        at = {r["seed"]: float(r["regret"]) for r in rows
              if r["sampler"] == sampler and int(r["training"]) <= b}  # the last one per seed
        means.append(statistics.mean(at.values()))
    print(f"{sampler:>16} " + " ".join(f"{m:7.4f}" for m in means))
