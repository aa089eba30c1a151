"""Each child evaluated exactly once by several worker processes (journal file, PostgreSQL).

Every case runs several times: a pass that depended on timing would show up as a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasga.samplers.ga.claims import work_of
from nasga.evaluation.records import lineage
from tests.helpers import assert_each_child_once, run_worker_processes

POPULATION, GENERATIONS, WORKERS = 6, 4, 4

# An Optuna user's worker: the GA sampler on a plain study, stopping once generation G settled.
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
    url, name, preset, pop, last = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    storage = JournalStorage(JournalFileBackend(url)) if url.endswith(".log") else url
    space = small_gcnn()
    sampler = GeneticSampler(space=space, strategy=get_strategy(preset, population=pop), seed=0)
    study = optuna.create_study(direction="maximize", storage=storage, study_name=name,
                                sampler=sampler, load_if_exists=True)
    objective = Objective(space=space, task=SyntheticTask(space, sleep=0.03), max_evaluations=None)
    def stop(study, trial):
        if sampler.settled(study, last):
            study.stop()
    study.optimize(objective, callbacks=[stop])
    """
)


def _run_workers(storage: str, name: str, preset: str) -> optuna.Study:
    if not storage.endswith(".log"):  # the schema first: Optuna's RDB creation races itself
        optuna.create_study(storage=storage, study_name=name, direction="maximize")
    run_worker_processes(WORKER, [storage, name, preset, str(POPULATION), str(GENERATIONS)],
                         workers=WORKERS, timeout=240)
    if storage.endswith(".log"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return optuna.load_study(study_name=name,
                                 storage=JournalStorage(JournalFileBackend(storage)))
    return optuna.load_study(study_name=name, storage=storage)


def _check(study: optuna.Study) -> None:
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert_each_child_once(study, POPULATION, GENERATIONS)
    gens = {work_of(t)[0] for t in study.trials if work_of(t) is not None}
    assert max(gens) <= GENERATIONS + 1  # at most the next generation was started
    # parents come from the previous generation's children
    numbers = {t.number: t for t in study.trials}
    for t in study.trials:
        for p in lineage(t).get("ga_parents", []):
            assert lineage(numbers[p])["ga_generation"] == lineage(t)["ga_generation"] - 1


@pytest.mark.parametrize("repeat", range(3))
def test_journal_workers_claim_each_child_once(tmp_path: Path, repeat: int) -> None:
    study = _run_workers(str(tmp_path / "claims.log"), f"j{repeat}", "genetic-cnn")
    _check(study)


@pytest.mark.parametrize("repeat", range(2))
def test_postgres_workers_claim_each_child_once(pg_url: str, repeat: int) -> None:
    study = _run_workers(pg_url, f"claims-pg-{repeat}", "genetic-cnn")
    _check(study)


def _cli_config(tmp_path: Path, task: str) -> Path:
    space = '[space]\nstages = [3, 4]\n' if task == "genetic-cnn" else \
        '[space]\ndepth = 4\nchannels = [8, 16, 32]\n'
    path = tmp_path / "study.toml"
    path.write_text(textwrap.dedent(f"""
        [study]
        name = "cli-{task}"
        task = "{task}"
        seed = 0
        {space}
        [strategy]
        population = {POPULATION}
        generations = {GENERATIONS}
        max_evaluations = 1
        [task]
        task = "synthetic"
        sleep = 0.05
        """))
    return path


@pytest.mark.parametrize("task", ["genetic-cnn", "unet"])
@pytest.mark.parametrize("repeat", range(2))
def test_nasga_run_with_workers_claims_each_child_once(tmp_path: Path, task: str,
                                                       repeat: int) -> None:
    """`nasga run --workers 4` (journal): no child lost or duplicated, no surplus training."""
    cfg = _cli_config(tmp_path, task)
    url = f"journal:///{tmp_path / 'w.log'}"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "nasga.cli", "run", "--study", str(cfg),
                          "--storage", url, "--workers", str(WORKERS), "--quiet"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name=f"cli-{task}",
                              storage=JournalStorage(JournalFileBackend(str(tmp_path / "w.log"))))
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert_each_child_once(study, POPULATION, GENERATIONS)
    beyond = [t for t in study.trials if lineage(t).get("ga_generation", 0) > GENERATIONS]
    assert all(t.state == TrialState.PRUNED and not t.user_attrs.get("trained") for t in beyond)
    assert len(beyond) < WORKERS
