"""Workers: several processes, and several machines, breeding one population in one storage.

    python docs/tutorials/workers.py                                         # a journal file
    python docs/tutorials/workers.py --storage postgresql://USER:PASS@HOST/DB  # several machines
    python docs/tutorials/workers.py --tiny                                  # seconds (tests)

``nasga run --workers 2`` starts a second process on this machine; the ``nasga worker`` that
this script starts meanwhile stands for a worker on another machine (on PostgreSQL it could be
one: it needs only the URL and the study's name).
"""

import argparse
import collections
import os
import shlex
import subprocess
import sys
import tempfile
import time

import optuna

from nasga.cli import main
from nasga.samplers.ga.claims import work_of
from nasga.storages.redact import redact
from nasga.storages.storage import open_storage, storage_exists, study_exists

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--storage", default="journal:///workers.log",
                    help="the study's storage (default: a journal file in a temporary folder)")
parser.add_argument("--tiny", action="store_true", help="a tiny search: seconds")
args = parser.parse_args()
os.chdir(tempfile.mkdtemp(prefix="nasga-workers-"))
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = ["--storage", args.storage, "--study-name", "workers"]
run = ["run", "--task", "genetic-cnn", *study, "--workers", "2", "--quiet",
       "--population", "4" if args.tiny else "8", "--generations", "1" if args.tiny else "2",
       "--set", "space.stages=[3,4]", "--set", "task.epochs=1" if args.tiny else "task.epochs=3",
       "--set", f"task.max_train={100 if args.tiny else 600}"]

# This machine: `nasga run --workers 2` (this process and one it spawns), in the background.
print("$ nasga", redact(shlex.join(run)), "&", flush=True)  # never print a password
driver = subprocess.Popen([sys.executable, "-m", "nasga.cli", *run], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
while not (storage_exists(args.storage) and study_exists(
        open_storage(args.storage, heartbeat=False, readonly=True), "workers")):
    time.sleep(0.2)  # the study exists once the run has validated its input

# "Another machine": it reads the study's stored configuration; it needs no study file.
worker = ["worker", *study, "--quiet"]
print("$ nasga", redact(shlex.join(worker)), flush=True)
code = main(worker)
print(driver.communicate()[0], end="", flush=True)
if code or driver.returncode:
    sys.exit(f"exit codes: worker {code}, run {driver.returncode}")

# Who trained what: each training records its process, and each child was evaluated once.
storage = open_storage(args.storage, heartbeat=False, readonly=True)
done = optuna.load_study(study_name="workers", storage=storage).get_trials(
    states=[optuna.trial.TrialState.COMPLETE])
by_pid = collections.Counter(t.system_attrs.get("nasga:worker", {}).get("pid") for t in done)
print("trainings per process:", ", ".join(
    f"{'this nasga worker' if pid == os.getpid() else f'pid {pid}'} {n}"
    for pid, n in by_pid.most_common()))
children = collections.Counter(work_of(t) for t in done)  # (generation, round, slot)
per_generation = collections.Counter(work[0] for work in children if work is not None)
print("children evaluated per generation:", dict(sorted(per_generation.items())),
      "| evaluated twice:", [w for w, n in children.items() if w is not None and n > 1],
      "| no child record:", children[None])
