"""A γ sweep with reuse: a U-Net search at γ = 40, then γ = 0 and γ = 400 reusing its trainings.

    python docs/tutorials/gamma-reuse.py          # population 8, generations 0..2, 2 mini-epochs
    python docs/tutorials/gamma-reuse.py --tiny   # population 2 (the test suite)

The fitness is 1 / (L_Gen + γ·GMACs) (paper 000 eq. 7); every training's raw losses are stored,
so a study at another γ answers every genome a study at γ = 40 trained from that training.
"""

import argparse
import os
import shlex
import sys
import tempfile

import optuna

from nasga.cli import main
from nasga.results.best import best_genome

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tiny", action="store_true", help="tiny searches: seconds")
args = parser.parse_args()
os.chdir(tempfile.mkdtemp(prefix="nasga-gamma-"))
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = "sqlite:///gamma.db"  # reuse needs the studies in one storage
size = (["--population", "2", "--generations", "1", "--set", "task.max_train=8",
         "--set", "task.max_val=4", "--set", "task.epochs=1"] if args.tiny else
        ["--population", "8", "--generations", "2", "--set", "task.epochs=2"])


def nasga(*argv: str) -> None:
    """Run ``nasga ARGV`` in this process, printed as you would type it."""
    print("$ nasga", shlex.join(argv), flush=True)
    if code := main(list(argv)):
        sys.exit(f"nasga exited with {code}")
    print(flush=True)


nasga("run", "--task", "unet", "--storage", storage, "--study-name", "g40", "--gamma", "40",
      "--quiet", *size)
for gamma in (0, 400):
    nasga("run", "--task", "unet", "--storage", storage, "--study-name", f"g{gamma}",
          "--gamma", str(gamma), "--reuse-from", "g40", "--quiet", *size)

print(f"{'study':>5} {'trainings':>9} {'reused':>6}  best genome (GMACs, L_Gen)")
for name in ("g40", "g0", "g400"):
    study = optuna.load_study(study_name=name, storage=storage)
    done = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    best = best_genome(study).trial.user_attrs
    print(f"{name:>5} {sum(bool(t.user_attrs.get('trained')) for t in done):9d} "
          f"{sum('reused_from' in t.user_attrs for t in done):6d}  {best['genome']} "
          f"({best['macs'] / 1e9:.4f}, {best['l_gen']:.2f})")
