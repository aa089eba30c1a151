"""Exactly-once child claims on a multi-objective study: 4 worker processes on a journal file
(issue 29). Each case runs twice: a pass that depended on timing would show up as a failure."""

from __future__ import annotations

import textwrap
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from nasga.evaluation.records import lineage
from tests.helpers import assert_each_child_once, run_worker_processes

POPULATION, GENERATIONS, WORKERS = 6, 3, 4

WORKER = textwrap.dedent(
    """
    import sys, optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from nasga.evaluation.objective import Objective
    from nasga.samplers.ga.sampler import GeneticSampler
    from nasga.samplers.ga.strategies import get_strategy
    from nasga.tasks.synthetic import SyntheticTask
    from tests.helpers import small_gcnn
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path, name, pop, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    space = small_gcnn()
    sampler = GeneticSampler(space=space, strategy=get_strategy("genetic-cnn", population=pop),
                             seed=0)
    study = optuna.create_study(directions=["maximize", "minimize"], study_name=name,
                                storage=JournalStorage(JournalFileBackend(path)),
                                sampler=sampler, load_if_exists=True)
    objective = Objective(space=space, task=SyntheticTask(space, sleep=0.03, noise=0.05),
                          max_evaluations=None, objectives=("score", "macs"))
    def stop(study, trial):
        if sampler.settled(study, last):
            study.stop()
    study.optimize(objective, callbacks=[stop])
    """
)


@pytest.mark.parametrize("repeat", range(2))
def test_four_journal_workers_claim_each_child_once(tmp_path: Path, repeat: int) -> None:
    path = str(tmp_path / "claims.log")
    run_worker_processes(WORKER, [path, f"mo{repeat}", str(POPULATION), str(GENERATIONS)],
                         workers=WORKERS, timeout=300)
    study = optuna.load_study(study_name=f"mo{repeat}",
                              storage=JournalStorage(JournalFileBackend(path)))
    assert len(study.directions) == 2
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert_each_child_once(study, POPULATION, GENERATIONS)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert all(len(t.values) == 2 for t in complete)
    bred = [t for t in complete if lineage(t)["ga_generation"] > 0]
    assert bred and all(lineage(t)["ga_operator"] != "random" for t in bred)
