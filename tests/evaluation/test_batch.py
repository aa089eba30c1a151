"""nasga.evaluation.batch (issue 28): fused batches of trials give each trial what it gets
evaluated alone, never wait on their own trials, fail per member and leave nothing RUNNING."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from nasga.evaluation.batch import optimize_fused
from nasga.evaluation.objective import Held, Objective, Training
from nasga.evaluation.records import lineage
from nasga.samplers.ga.sampler import GeneticSampler
from nasga.samplers.ga.strategies import get_strategy
from nasga.search.config import validate
from nasga.search.run import open_search, optimize
from nasga.storages.heartbeat import HEARTBEAT_ATTR, TrialsHeartbeat, fail_stale_trials
from nasga.storages.handle import trial_id
from tests.helpers import FusableTask, assert_each_child_once, small_gcnn

SPACE = small_gcnn()


def _ga(task, *, population: int = 6, seed: int = 3, storage=None, mode: str = "generational",
        max_evaluations: int | None = None, last_generation: int | None = None):
    sampler = GeneticSampler(space=SPACE, strategy=get_strategy("genetic-cnn",
                             population=population), seed=seed, mode=mode)
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=storage,
                                study_name="fused" if storage else None)
    objective = Objective(space=SPACE, task=task, max_evaluations=max_evaluations, seed=seed,
                          last_generation=last_generation)
    return study, objective


def _fused(study, objective, fuse: int, n_trials: int) -> None:
    optimize_fused(study, objective, fuse=fuse, n_trials=n_trials,
                   callback=lambda s, t: None, stopped=lambda: False)


def _rows(study):
    return [(t.number, t.state, t.params, t.value, t.user_attrs.get("eval_seed"))
            for t in study.get_trials(deepcopy=False)]


def test_a_generational_ga_proposes_and_measures_the_same_fused(tmp_path: Path) -> None:
    alone, fused = FusableTask(SPACE, noise=0.05), FusableTask(SPACE, noise=0.05)
    a_study, a_objective = _ga(alone)
    a_study.optimize(a_objective, n_trials=6 * 5)
    f_study, f_objective = _ga(fused)
    _fused(f_study, f_objective, fuse=4, n_trials=6 * 5)
    assert _rows(f_study) == _rows(a_study)  # params, values and seeds, trial by trial
    assert_each_child_once(f_study, 6, 4)
    assert alone.batches == [] and max(map(len, fused.batches)) == 4
    generation = {t.user_attrs["eval_seed"]: lineage(t)["ga_generation"]
                  for t in f_study.trials}
    for seeds in fused.batches:  # a batch never reaches past a generation's barrier
        assert len({generation[s] for s in seeds}) == 1
    keys = Counter((lineage(t)["ga_generation"], t.user_attrs["key"]) for t in f_study.trials)
    assert max(keys.values()) > 1  # a genome twice in a generation: held, then trained again


@pytest.mark.parametrize("max_evaluations", [1, None])
def test_a_genome_twice_in_a_batch_is_looked_up_after_its_first_training(
        max_evaluations: int | None) -> None:
    texts = ["1-01|0-01-111", "1-01|0-01-111", "0-00|1-00-000", "1-01|0-01-111", "1-11|1-11-111"]
    studies, tasks = [], []
    for fuse in (1, 3):
        task = FusableTask(SPACE, noise=0.05)
        study = optuna.create_study(direction="maximize")
        for text in texts:
            study.enqueue_trial(SPACE.to_params(SPACE.parse(text)))
        objective = Objective(space=SPACE, task=task, max_evaluations=max_evaluations, seed=5)
        if fuse == 1:
            study.optimize(objective, n_trials=len(texts))
        else:
            _fused(study, objective, fuse=fuse, n_trials=len(texts))
        studies.append(study)
        tasks.append(task)
    assert _rows(studies[1]) == _rows(studies[0])
    assert [t.user_attrs["cached"] for t in studies[1].trials] == \
        [t.user_attrs["cached"] for t in studies[0].trials]
    assert tasks[1].calls == tasks[0].calls == (3 if max_evaluations == 1 else 5)


def test_sampling_that_would_wait_opens_the_next_batch() -> None:
    sampler = GeneticSampler(space=SPACE, strategy=get_strategy("genetic-cnn", population=2),
                             seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    first, second, third = study.ask(), study.ask(), study.ask()
    assert not sampler.claim_waits(study, first) and not sampler.claim_waits(study, second)
    assert sampler.claim_waits(study, third)  # generation 1 waits for generation 0
    for trial in (first, second):
        Objective(space=SPACE, task=FusableTask(SPACE)).suggest(trial)
        study.tell(trial, 1.0)
    Objective(space=SPACE, task=FusableTask(SPACE)).suggest(third)  # no wait: told first
    assert third.params


@pytest.mark.parametrize("sampler", ["steady-state", "aging", "random"])
def test_samplers_that_never_wait_fill_every_batch(sampler: str) -> None:
    from nasga.samplers.aging.sampler import AgingEvolutionSampler

    task = FusableTask(SPACE, noise=0.05)
    if sampler == "steady-state":
        study, objective = _ga(task, mode="steady-state", max_evaluations=1)
    else:
        chosen = (AgingEvolutionSampler(population=4, sample_size=2, space=SPACE, seed=0)
                  if sampler == "aging" else optuna.samplers.RandomSampler(seed=0))
        study = optuna.create_study(direction="maximize", sampler=chosen)
        objective = Objective(space=SPACE, task=task, max_evaluations=1, seed=0)
    _fused(study, objective, fuse=4, n_trials=22)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 22 and all(t.state == TrialState.COMPLETE for t in trials)
    assert sum(bool(t.user_attrs["trained"]) for t in trials) == sum(map(len, task.batches))
    assert max(map(len, task.batches)) == 4


def _search(tmp_path: Path, task_of, *, sampler: str = "ga", fuse: int = 4, name: str = "s",
            population: int = 6, generations: int = 2):
    cfg = validate({"study": {"name": name, "task": "genetic-cnn", "seed": 1, "sampler": sampler},
                    "space": {"stages": [3, 4]},
                    "strategy": {"population": population, "generations": generations,
                                 "max_evaluations": 0},
                    "task": {"task": "synthetic", "noise": 0.05}})
    search = open_search(cfg, storage_url=f"sqlite:///{tmp_path / (name + '.db')}")
    search.objective.task = task_of(search.space)
    return dataclasses.replace(search, fuse=fuse)


def test_a_failing_member_fails_alone_and_its_child_is_retried(tmp_path: Path) -> None:
    runs = {}
    for fuse in (1, 4):
        search = _search(tmp_path, lambda s: FusableTask(s, noise=0.05, fail_nth={1}),
                         fuse=fuse, name=f"f{fuse}")
        optimize(search, progress=False, log=lambda s: None)
        runs[fuse] = search.study
    failed = [t for t in runs[4].trials if t.state == TrialState.FAIL]
    assert [t.number for t in failed] == [1]
    assert failed[0].user_attrs["fail_reason"].startswith("EvaluationError: loss became nan")
    assert all(t.state == TrialState.COMPLETE for t in runs[4].trials if t.number != 1)
    assert_each_child_once(runs[4], 6, 2)
    assert _rows(runs[4]) == _rows(runs[1])  # the retry round as unfused


def test_the_last_batch_is_not_larger_than_what_is_left(tmp_path: Path) -> None:
    holder = {}

    def task_of(space):
        holder["task"] = FusableTask(space, noise=0.05)
        return holder["task"]

    search = _search(tmp_path, task_of, sampler="random", population=5, generations=1)
    optimize(search, progress=False, log=lambda s: None)
    assert [len(b) for b in holder["task"].batches] == [4, 4, 2]
    assert [t.state for t in search.study.trials] == [TrialState.COMPLETE] * 10


def test_an_interrupt_mid_batch_leaves_no_trial_running_and_resumes(tmp_path: Path) -> None:
    def interrupt(index: int) -> None:
        if index == 1:
            raise KeyboardInterrupt

    search = _search(tmp_path, lambda s: FusableTask(s, noise=0.05, on_batch=interrupt),
                     population=3, generations=2)
    with pytest.raises(KeyboardInterrupt):
        optimize(search, progress=False, log=lambda s: None)
    states = Counter(t.state for t in search.study.trials)
    assert states[TrialState.RUNNING] == 0 and states[TrialState.FAIL] >= 1
    for t in search.study.trials:
        if t.state == TrialState.FAIL:
            assert t.user_attrs["fail_reason"].startswith("interrupted by SIGINT")
    search.objective.task.on_batch = None
    optimize(search, progress=False, log=lambda s: None)  # the same command resumes
    assert_each_child_once(search.study, 3, 2)


def test_every_untold_trial_beats_through_a_long_fused_training(tmp_path: Path) -> None:
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")))
    grace = 1.5
    study, objective = _ga(None, population=3, storage=storage)
    objective.heartbeat_interval = 0.1
    seen = []

    def other_worker_looks(index: int) -> None:  # meanwhile, another worker looks for the dead
        import time

        if index:
            return
        time.sleep(grace + 1.0)
        fail_stale_trials(study, grace_period=grace, storage=storage)
        seen.append([(t.number, bool(t.params)) for t in study.get_trials(
            deepcopy=False, states=(TrialState.RUNNING,))])

    objective.task = FusableTask(SPACE, on_batch=other_worker_looks)
    _fused(study, objective, fuse=4, n_trials=6)
    assert seen[0] == [(0, True), (1, True), (2, True), (3, False)]  # 3: a ticket waiting
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 6


def test_trials_heartbeat_beats_for_the_trials_it_holds(tmp_path: Path) -> None:
    import time

    storage = JournalStorage(JournalFileBackend(str(tmp_path / "h.log")))
    study = optuna.create_study(storage=storage, study_name="h")
    a, b = study.ask(), study.ask()
    ids = [trial_id(storage, study, t.number) for t in (a, b)]

    def beat_of(i: int) -> float:
        return storage.get_trial(ids[i]).system_attrs[HEARTBEAT_ATTR]

    def next_beat_of_a() -> None:
        before, deadline = beat_of(0), time.monotonic() + 30
        while beat_of(0) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert beat_of(0) != before

    with TrialsHeartbeat(storage, 0.05) as beats:
        beats.add(ids[0])
        beats.add(ids[1])  # one beat at once
        beats.discard(ids[1])
        next_beat_of_a()
        next_beat_of_a()  # a round that began before the discard is over
        stopped = beat_of(1)
        next_beat_of_a()
        assert beat_of(1) == stopped
        study.tell(a, 1.0)  # told while held: its next beat is refused, and it is dropped
        time.sleep(0.2)
    assert storage.get_trial(ids[0]).state == TrialState.COMPLETE


def test_lookup_holds_instead_of_waiting_while_trainings_are_pending() -> None:
    task = FusableTask(SPACE)
    study = optuna.create_study(direction="maximize")
    genome = SPACE.parse("1-01|0-01-111")
    for _ in range(2):
        study.enqueue_trial(SPACE.to_params(genome))
    objective = Objective(space=SPACE, task=task, max_evaluations=1, twin_timeout=60)
    older, younger = study.ask(), study.ask()
    assert isinstance(objective.prepare(older), Training)  # flagged as training it
    assert isinstance(objective.prepare(younger, wait=False), Held)  # no 60 s twin wait
    assert isinstance(objective.prepare(younger, busy={genome.key}), Held)


WORKER = """
import dataclasses, sys
from nasga.search.run import load_search, optimize
from tests.helpers import FusableTask
search = load_search(sys.argv[1], "two")
search.objective.task = FusableTask(search.space, noise=0.05, sleep=0.01)
optimize(dataclasses.replace(search, fuse=4), progress=False, log=lambda s: None)
"""


def test_two_fused_workers_evaluate_each_child_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import ROOT

    url = f"journal:///{tmp_path / 'two.log'}"
    cfg = validate({"study": {"name": "two", "task": "genetic-cnn", "seed": 2},
                    "space": {"stages": [3, 4]},
                    "strategy": {"population": 6, "generations": 5, "max_evaluations": 0},
                    "task": {"task": "synthetic"}})
    search = open_search(cfg, storage_url=url)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    trials = search.study.get_trials(deepcopy=False)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.FAIL)]
    assert_each_child_once(search.study, 6, 5)
