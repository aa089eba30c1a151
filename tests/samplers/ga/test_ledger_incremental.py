"""The ledger answers from what it has seen (its cost flat in the study size) exactly what a
walk over every round and ticket answers, whatever order trials finish in."""

from __future__ import annotations

import datetime
import random

import pytest
from optuna.trial import FrozenTrial, TrialState

from nasga.samplers.ga.claims import TICKET_KEY, Ledger

STATES = (TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


def _trial(number: int, state: TrialState) -> FrozenTrial:
    now = datetime.datetime.now()
    return FrozenTrial(number=number, state=state,
                       value=1.0 if state == TrialState.COMPLETE else None,
                       datetime_start=now, datetime_complete=None, params={}, distributions={},
                       user_attrs={}, system_attrs={TICKET_KEY: 7}, intermediate_values={},
                       trial_id=number)


def _walk_progress(ledger: Ledger, last: int, trials: list[FrozenTrial]) -> int:
    """Settled children counted round by round from generation 0 (the rule, walked)."""
    if ledger.steady:
        n = (last + 1) * ledger.population
        return sum(trials[k].state.is_finished() for k in ledger.tickets[:n])
    done = 0
    for rnd in ledger.rounds:
        if rnd.generation > last:
            break
        for t in ledger.attempts(rnd, trials):
            # COMPLETE and PRUNED attempts are final (a pruned child is never retried)
            if t is not None and (t.state in (TrialState.COMPLETE, TrialState.PRUNED) or (
                    t.state.is_finished() and rnd.index + 1 >= ledger.max_attempts)):
                done += 1
    return done


@pytest.mark.parametrize("steady", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_progress_and_parents_equal_the_walk(steady: bool, seed: int) -> None:
    rng = random.Random(seed)
    ledger = Ledger(3, 2, steady=steady)
    trials: list[FrozenTrial] = []
    for _ in range(150):
        running = [t.number for t in trials if t.state == TrialState.RUNNING]
        if running and (len(running) > 4 or rng.random() < 0.5):
            n = rng.choice(running)  # finishes out of order; the storage replaces the object
            trials = list(trials)
            trials[n] = _trial(n, rng.choice(STATES))
        else:
            trials = trials + [_trial(len(trials), TrialState.RUNNING)]
        assert ledger.scan(trials, len(trials))
        fresh = Ledger(3, 2, steady=steady)
        fresh.scan(trials, len(trials))
        for last in range(6):
            settled = ledger.settled(last, trials)
            assert settled == fresh.settled(last, trials)
            assert ledger.progress(last, trials) == _walk_progress(fresh, last, trials)
            if not steady:
                assert ledger.complete_trials(last, trials).keys() == \
                    fresh.complete_trials(last, trials).keys()
