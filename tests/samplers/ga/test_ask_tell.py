"""No sampler waits forever: ask/tell used any way Optuna allows either proceeds or raises one
clear error (docs/design.md, "The sampler: claims, generations, retries")."""

from __future__ import annotations

import threading
from collections import Counter

import optuna
import pytest
from optuna.trial import TrialState

import nasga.samplers.ga.sampler as sampler_module
from nasga.samplers.ga.claims import work_of, AskAheadError
from nasga.samplers.ga.sampler import GeneticSampler
from nasga.samplers.ga.strategies import get_strategy
from nasga.evaluation.records import lineage
from tests.helpers import small_gcnn

P = 4


def _study(mode: str = "generational") -> tuple[optuna.Study, dict]:
    space = small_gcnn()
    sampler = GeneticSampler(space=space, strategy=get_strategy("genetic-cnn", population=P),
                             seed=0, mode=mode)
    return optuna.create_study(direction="maximize", sampler=sampler), space.distributions


def _value(trial: optuna.Trial, dists: dict) -> float:
    return float(sum(trial.suggest_int(n, d.low, d.high) for n, d in dists.items()))


@pytest.fixture
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any wait inside the sampler fails the test at once (a wait that would never end)."""
    def refuse(seconds: float) -> None:
        raise AssertionError(f"the sampler waited ({seconds} s)")
    monkeypatch.setattr(sampler_module.time, "sleep", refuse)


def test_asking_past_a_generation_from_one_thread_raises_without_waiting(no_wait) -> None:
    study, dists = _study()
    asked = [study.ask(dists) for _ in range(P)]  # generation 0: proposed at once
    with pytest.raises(AskAheadError) as info:
        study.ask(dists)  # generation 1 needs generation 0 told
    message = str(info.value)
    assert "\n" not in message
    assert f"trial {P} " in message and "trials 0, 1, 2, 3" in message
    assert "tell trials 0.." in message and 'mode="steady-state"' in message
    failed = study.get_trials(deepcopy=False)[P]
    assert failed.state == TrialState.FAIL and failed.user_attrs["fail_reason"] == message
    for t in asked:  # told: the study goes on, the failed ticket's slot being retried
        study.tell(t, _value(t, dists))
    for _ in range(2 * P):
        t = study.ask(dists)
        study.tell(t, _value(t, dists))
    works = [work_of(t) for t in study.get_trials(deepcopy=False)
             if work_of(t) is not None]
    assert (1, 1, 0) in works  # generation 1, retry round, slot 0 (the failed ticket's)
    assert len(works) == len(set(works))


def test_a_lazy_suggest_past_a_generation_raises_without_waiting(no_wait) -> None:
    study, dists = _study()
    trials = [study.ask() for _ in range(P + 1)]  # nothing sampled yet
    with pytest.raises(AskAheadError, match=f"trial {P} "):
        _value(trials[P], dists)
    for t in trials[:P]:
        study.tell(t, _value(t, dists))
    assert study.get_trials(deepcopy=False)[P].state == TrialState.FAIL


def test_ask_and_tell_in_order_proceeds(no_wait) -> None:
    study, dists = _study()
    for i in range(4 * P):  # one at a time, with failures and prunes: retry rounds
        t = study.ask(dists)
        if i % 5 == 2:
            study.tell(t, state=TrialState.FAIL)
        elif i % 7 == 3:
            study.tell(t, state=TrialState.PRUNED)
        else:
            study.tell(t, _value(t, dists))
    states = Counter(t.state for t in study.get_trials(deepcopy=False))
    assert states[TrialState.RUNNING] == 0 and states[TrialState.COMPLETE] >= 2 * P
    study, dists = _study()
    for _ in range(3):  # nothing fails: a generation at a time, told in reverse order
        batch = [study.ask(dists) for _ in range(P)]
        for t in reversed(batch):
            study.tell(t, _value(t, dists))
    assert [lineage(t)["ga_generation"] for t in study.get_trials(deepcopy=False)] == \
        [g for g in range(3) for _ in range(P)]


def test_steady_state_never_waits(no_wait) -> None:
    study, dists = _study("steady-state")
    asked = [study.ask(dists) for _ in range(3 * P)]
    for t in asked:
        study.tell(t, _value(t, dists))
    assert all(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))


def test_trials_asked_here_and_told_by_other_threads_are_waited_for() -> None:
    study, dists = _study()
    trials = [study.ask() for _ in range(P + 1)]  # dispatched: sampled and told elsewhere
    done: list[float] = []
    waiter = threading.Thread(target=lambda: done.append(_value(trials[P], dists)))
    waiter.start()  # trial P waits for generation 0, which this thread asked
    for t in trials[:P]:
        study.tell(t, _value(t, dists))
    waiter.join(timeout=120)
    assert not waiter.is_alive() and len(done) == 1
    assert work_of(study.get_trials(deepcopy=False)[P]) == (1, 0, 0)


def test_n_jobs_threads_still_claim_each_child_once() -> None:
    study, dists = _study()
    study.optimize(lambda t: _value(t, dists), n_trials=4 * P, n_jobs=3)
    trials = study.get_trials(deepcopy=False)
    works = [work_of(t) for t in trials]
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(works) == [(g, 0, s) for g in range(4) for s in range(P)]
