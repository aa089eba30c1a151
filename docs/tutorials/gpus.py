"""GPUs: several trainings per device, round-robin over the devices; the CPU where there is none.

    python docs/tutorials/gpus.py                          # every visible GPU, else the CPU
    python docs/tutorials/gpus.py --devices cuda:0,cuda:1  # these devices
    python docs/tutorials/gpus.py --tiny                   # seconds (the test suite: CPU)
"""

import argparse
import collections
import os
import shlex
import sys
import tempfile

import optuna
import torch

from nasga.cli import main
from nasga.search.devices import default_devices

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--devices", help="e.g. cuda:0,cuda:1 or cpu (default: every visible GPU)")
parser.add_argument("--tiny", action="store_true", help="a tiny search: seconds")
args = parser.parse_args()
os.chdir(tempfile.mkdtemp(prefix="nasga-gpus-"))
optuna.logging.set_verbosity(optuna.logging.WARNING)


def nasga(*argv: str, expect: int = 0) -> None:
    """Run ``nasga ARGV`` in this process, printed as you would type it."""
    print("$ nasga", shlex.join(argv), flush=True)
    code = main(list(argv))
    print(flush=True)
    if code != expect:
        sys.exit(f"nasga exited with {code}, expected {expect}")


print(f"CUDA devices here: {torch.cuda.device_count()}; without --devices nasga trains on "
      f"{','.join(default_devices('auto'))}\n")
storage = "journal:///gpus.log"  # several processes: a journal file (or PostgreSQL)
nasga("run", "--task", "genetic-cnn", "--storage", storage, "--study-name", "gpus", "--quiet",
      "--workers", "2", *(["--devices", args.devices] if args.devices else []),
      "--population", "4" if args.tiny else "8", "--generations", "1" if args.tiny else "2",
      "--set", "task.epochs=1" if args.tiny else "task.epochs=3",
      "--set", f"task.max_train={100 if args.tiny else 600}")

# Each training records the device it ran on and its process (pid, torch threads).
study = optuna.load_study(study_name="gpus", storage=optuna.storages.JournalStorage(
    optuna.storages.journal.JournalFileBackend("gpus.log")))
where = collections.Counter(
    (t.user_attrs.get("device"), t.system_attrs.get("nasga:worker", {}).get("pid"),
     t.system_attrs.get("nasga:worker", {}).get("threads"))
    for t in study.trials if t.user_attrs.get("trained"))
for (device, pid, threads), n in sorted(where.items(), key=str):
    print(f"{device}: pid {pid} ({threads} torch threads) trained {n}")
print()

# A device this machine lacks is refused in one line, exit code 2, before anything is written.
nasga("run", "--task", "genetic-cnn", "--storage", storage, "--study-name", "gpus-2",
      "--workers", "2", "--devices", "cuda:0,cuda:99", expect=2)
