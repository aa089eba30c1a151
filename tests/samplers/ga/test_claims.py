"""Ticket classification (``claims.ticket_status``): what every worker must agree on, even from
a read that shows a trial's params but not the ticket its worker wrote before them."""

from __future__ import annotations

import datetime
import signal

import pytest
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial, TrialState

from nasga.evaluation.records import CHILD_RECORD, FAIL_REASON, interrupt_reason
from nasga.samplers.ga.claims import CLAIM_TIMEOUT, TICKET_KEY, Ledger, ticket_status
from nasga.storages.handle import ENQUEUED_KEY, RETRY_COPY_KEY

NOW = datetime.datetime.now()


def _trial(number: int = 0, *, state: TrialState = TrialState.RUNNING, params: bool = False,
           attrs: dict | None = None, age: float = 1.0,
           now: datetime.datetime = NOW) -> FrozenTrial:
    start = now - datetime.timedelta(seconds=age)
    return FrozenTrial(
        number=number, state=state, value=1.0 if state == TrialState.COMPLETE else None,
        datetime_start=start, datetime_complete=None if state == TrialState.RUNNING else NOW,
        params={"x": 1} if params else {},
        distributions={"x": IntDistribution(0, 3)} if params else {},
        user_attrs={}, system_attrs=dict(attrs or {}), intermediate_values={}, trial_id=number)


@pytest.mark.parametrize("trial,expected", [
    (_trial(attrs={TICKET_KEY: 5}, params=True), True),
    (_trial(), None),  # its worker is writing the ticket
    # an RDB read can show params without the ticket written before them: not known yet
    (_trial(params=True), None),
    (_trial(params=True, age=CLAIM_TIMEOUT + 1), False),  # another sampler's, or a dead one
    (_trial(age=CLAIM_TIMEOUT + 1), False),
    (_trial(state=TrialState.COMPLETE, params=True), False),
    (_trial(attrs={ENQUEUED_KEY: {"x": 1}}), False),  # enqueued
    (_trial(attrs={RETRY_COPY_KEY: 3}), False),
])
def test_ticket_status(trial: FrozenTrial, expected: bool | None) -> None:
    assert ticket_status(trial, NOW) is expected


def test_a_read_hiding_a_ticket_leaves_the_ledger_waiting_not_miscounting() -> None:
    """Trial 1's ticket hidden from one read (params shown): trial 2's work item must wait for
    the next read, not take trial 1's slot (two workers claiming one child)."""
    now = datetime.datetime.now()  # the ledger reads the clock itself
    ledger = Ledger(population=4, max_attempts=1)
    hidden = [_trial(0, attrs={TICKET_KEY: 5}, now=now), _trial(1, params=True, now=now),
              _trial(2, now=now)]
    assert not ledger.scan(hidden, 2)
    shown = [hidden[0], _trial(1, params=True, attrs={TICKET_KEY: 5}, now=now), hidden[2]]
    assert ledger.scan(shown, 2)
    assert ledger.tickets == [0, 1]


def _attempt(number: int, state: TrialState, *, interrupted: bool = False,
             handed: bool = True) -> FrozenTrial:
    """A ticket's trial; ``handed``: it was handed its child (its work item is recorded)."""
    record = {CHILD_RECORD: {"ticket": 5, "work": [0, 0, 0]}} if handed else {TICKET_KEY: 5}
    trial = _trial(number, state=state, attrs=record)
    if interrupted:
        trial.user_attrs[FAIL_REASON] = interrupt_reason(signal.SIGTERM)
    return trial


def test_interrupted_attempts_are_retried_without_spending_the_slots_attempts() -> None:
    """An interrupt (the run stopped) is not a failure of the genome: with 2 attempts per slot,
    slot 1 is retried after each interrupt and given up only after its genome failed twice."""
    ledger = Ledger(population=2, max_attempts=2)
    done, fail = TrialState.COMPLETE, TrialState.FAIL
    trials = [_attempt(0, done), _attempt(1, fail, interrupted=True),  # generation 0, round 0
              _attempt(2, fail, interrupted=True),  # round 1: slot 1 again (0 failures so far)
              _attempt(3, fail),                     # round 2: slot 1, its genome's 1st failure
              _attempt(4, fail, interrupted=True),  # round 3: slot 1 (1 failure)
              _attempt(5, fail),                     # round 4: slot 1, 2nd failure: out
              _attempt(6, done), _attempt(7, done)]  # generation 1
    assert ledger.scan(trials, len(trials))
    items = [ledger.work_item(k, trials) for k in range(1, 6)]  # in ticket order, as workers ask
    assert [(rnd.index, slot) for rnd, slot in items] == [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]
    assert [rnd.failures for rnd, _ in items] == [{}, {1: 0}, {1: 0}, {1: 1}, {1: 1}]
    assert ledger.work_item(6, trials)[0].generation == 1
    assert ledger.progress(0, trials) == 2 and ledger.settled(0, trials)
    partial = Ledger(population=2, max_attempts=2)
    assert partial.scan(trials[:5], 5)
    assert partial.progress(0, trials[:5]) == 1  # slot 1 has an attempt left: not done
    assert not partial.settled(0, trials[:5])
    assert set(ledger.complete_trials(0, trials)) == {0}  # slot 1 failed every attempt


def test_a_ticket_failed_before_it_had_its_child_spends_no_attempt() -> None:
    """A worker killed while its ticket waited at the barrier: the ticket, failed by the
    heartbeat, maps onto a slot whose genome it never evaluated; the slot is retried as if the
    attempt had not run (here with 1 attempt per slot)."""
    ledger = Ledger(population=1, max_attempts=1)
    trials = [_attempt(0, TrialState.COMPLETE),  # generation 0
              _attempt(1, TrialState.FAIL, handed=False),  # generation 1: killed, waiting
              _attempt(2, TrialState.COMPLETE)]  # generation 1, retry round
    assert ledger.scan(trials, len(trials))
    items = [ledger.work_item(k, trials) for k in range(3)]
    assert [(rnd.generation, rnd.index) for rnd, _ in items] == [(0, 0), (1, 0), (1, 1)]
    assert ledger.progress(1, trials) == 2
    spent = Ledger(population=1, max_attempts=1)
    trials = [trials[0], _attempt(1, TrialState.FAIL),  # had its child: its one attempt is spent
              _attempt(2, TrialState.COMPLETE)]
    assert spent.scan(trials, len(trials))
    assert [spent.work_item(k, trials)[0].generation for k in range(3)] == [0, 1, 2]


def test_without_interrupts_a_slot_has_max_attempts_rounds() -> None:
    ledger = Ledger(population=1, max_attempts=3)
    trials = [_attempt(n, TrialState.FAIL) for n in range(3)] + [_attempt(3, TrialState.COMPLETE)]
    assert ledger.scan(trials, len(trials))
    assert [ledger.work_item(k, trials)[0].generation for k in range(4)] == [0, 0, 0, 1]
