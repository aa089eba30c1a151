"""The ledger answers from what it has seen (its cost flat in the study size) exactly what a
walk over every round and ticket answers, whatever order trials finish in."""

from __future__ import annotations

import datetime
import random
from collections import Counter

import pytest
from optuna.trial import FrozenTrial, TrialState

from nasga.evaluation.records import CHILD_RECORD
from nasga.samplers.ga.claims import TICKET_KEY, Ledger, work_of

STATES = (TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


def _trial(number: int, state: TrialState, handed: bool = True) -> FrozenTrial:
    """A ticket's trial; ``handed``: it recorded its work item (a failure then spends an
    attempt; one failed while it waited does not)."""
    now = datetime.datetime.now()
    attrs = {CHILD_RECORD: {"ticket": 7, "work": [0, 0, 0]}} if handed else {TICKET_KEY: 7}
    return FrozenTrial(number=number, state=state,
                       value=1.0 if state == TrialState.COMPLETE else None,
                       datetime_start=now, datetime_complete=None, params={}, distributions={},
                       user_attrs={}, system_attrs=attrs, intermediate_values={},
                       trial_id=number)


def _walk_progress(ledger: Ledger, last: int, trials: list[FrozenTrial]) -> int:
    """Settled children counted round by round from generation 0 (the rule, walked)."""
    if ledger.steady:
        n = (last + 1) * ledger.population
        return sum(trials[k].state.is_finished() for k in ledger.tickets[:n])
    done, spent = 0, Counter()
    for rnd in ledger.rounds:
        if rnd.generation > last:
            break
        for slot, t in zip(rnd.slots, ledger.attempts(rnd, trials)):
            # COMPLETE and PRUNED attempts are final (a pruned child is never retried)
            if t is not None and t.state in (TrialState.COMPLETE, TrialState.PRUNED):
                done += 1
            elif t is not None and t.state == TrialState.FAIL:
                spent[rnd.generation, slot] += work_of(t) is not None
                done += spent[rnd.generation, slot] >= ledger.max_attempts
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
            trials[n] = _trial(n, rng.choice(STATES), handed=rng.random() < 0.8)
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
