"""Ticket classification (``claims.ticket_status``): what every worker must agree on, even from
a read that shows a trial's params but not the ticket its worker wrote before them."""

from __future__ import annotations

import datetime

import pytest
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial, TrialState

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
