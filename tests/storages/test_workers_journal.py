from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from nasga.results.stats import generation_stats
from nasga.evaluation.records import lineage

WORKER = textwrap.dedent(
    """
    import sys, optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from tests.helpers import ga_study, small_gcnn
    from nasga.tasks.synthetic import SyntheticTask
    storage = JournalStorage(JournalFileBackend(sys.argv[1]))
    space = small_gcnn()
    study, objective = ga_study(space, preset="genetic-cnn", seed=0, population=6,
                                storage=storage, study_name="two-workers",
                                task=SyntheticTask(space, sleep=0.02))
    # Each worker stops when the study holds 5 complete generations.
    def stop(study, trial):
        done = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
        if len(done) >= 30:
            study.stop()
    study.optimize(objective, n_trials=60, callbacks=[stop])
    """
)


def test_two_workers_share_one_ga_study(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.log")
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, path], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
    study = optuna.load_study(study_name="two-workers",
                              storage=JournalStorage(JournalFileBackend(path)))
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]
    rows = generation_stats(study)
    full = [r for r in rows if r.n >= 6]
    assert len(full) >= 4
    assert [r.generation for r in full] == list(range(len(full)))
    gens = {lineage(t)["ga_generation"] for t in study.trials}
    assert gens <= set(range(len(rows) + 1))
