"""Exactly-once child claims for generational samplers, on any Optuna storage.

Every Optuna storage assigns trial numbers atomically, so all workers (threads, processes,
machines) agree on the order of trials. A *fresh* trial (not enqueued, not a retry copy) takes a
**ticket** when it starts: a system attr written by its own worker in ``before_trial`` (when
its work item is already known then, the ticket is written with the work item and lineage as
one :data:`~nasga.evaluation.records.CHILD_RECORD`: one storage record per child). Its
ticket index is its rank among ticket-holding trials by trial number, which every worker
computes alike once every lower-numbered trial is classified (docs/design.md, "The sampler:
claims, generations, retries").

Tickets map onto **work items** ``(generation, round, slot)`` in a fixed order:

* generation ``g`` round 0: slots ``0..P-1``;
* round ``r >= 1``: only the slots whose round ``r-1`` attempt failed (FAIL; a PRUNED attempt
  was stopped on purpose and is final) and that have attempts left, known once every attempt
  of round ``r-1`` has finished. A slot is out of attempts after ``max_attempts`` failures of
  its genome (:func:`spends_attempt`): an attempt that an interrupt failed (SIGINT, SIGTERM:
  the run stopped, the genome did not fail), or that failed before it was handed its child
  (a worker killed while its ticket waited), is retried without spending one;
* then generation ``g+1`` round 0, once generation ``g`` is *settled* (every slot COMPLETE or
  out of attempts).

A ticket whose work item depends on unfinished trials waits. Hence each child is evaluated
exactly once (retries aside) whatever the number of workers, and a worker that finds nothing to
claim waits instead of training a duplicate.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from optuna.trial import FrozenTrial, TrialState

from nasga.evaluation.records import CHILD_RECORD, was_interrupted
from nasga.storages.handle import is_enqueued, is_fresh, is_retry_copy

TICKET_KEY = "nasga:ticket"
"""System attr of a fresh trial whose work item was not known when it asked: the base seed it
proposes (the first ticket's is the study's); otherwise that seed is the ``"ticket"`` field of
its :data:`~nasga.evaluation.records.CHILD_RECORD`."""
WORK_KEY = "nasga:work"
"""System attr of a ticket's trial in studies before 0.2: its work item
``[generation, round, slot]`` (now the ``"work"`` field of its :data:`~nasga.evaluation.records.CHILD_RECORD`)."""
CLAIM_TIMEOUT = 60.0
"""Seconds after which a fresh trial that never took its ticket counts as ticketless."""

_FAILED = (TrialState.FAIL,)
"""States of an attempt that is retried: a PRUNED child was stopped on purpose (a pruner, a
cost budget, the search's end) and is never retried (issue 27)."""


def ticket_of(trial: FrozenTrial) -> int | None:
    """The ticket ``trial`` holds (the base seed it proposed): a bare ticket, or the one written
    with its work item in its child record; ``None``: no ticket (yet)."""
    if TICKET_KEY in trial.system_attrs:
        return int(trial.system_attrs[TICKET_KEY])
    record = trial.system_attrs.get(CHILD_RECORD)
    if isinstance(record, dict) and "ticket" in record:
        return int(record["ticket"])
    return None


def ticket_status(trial: FrozenTrial, now: datetime.datetime | None = None) -> bool | None:
    """Whether ``trial`` holds a ticket: True, False, or None while that is not known yet.

    A trial created fresh is RUNNING with no params until its worker writes the ticket in
    ``before_trial`` (milliseconds later). Retry copies, enqueued trials (``fixed_params``) and
    finished trials without a ticket are ticketless for good. A RUNNING trial without a visible
    ticket is not known yet, *even with params*: an RDB storage reads a trial's params and its
    system attrs in separate statements, so under load a read can show params written after a
    ticket that it does not show (seen on PostgreSQL: two workers then claimed one child). It
    is ticketless once older than :data:`CLAIM_TIMEOUT` seconds (its worker died, never asked
    the sampler, or it is another sampler's trial); its own worker refuses to take a ticket
    that late (:func:`may_take_ticket`). A read loads the state before the attrs, and an
    enqueued mark with them, so neither a finished state nor that mark can hide a ticket.
    """
    if is_retry_copy(trial):
        return False
    if ticket_of(trial) is not None:
        return True
    if trial.state != TrialState.RUNNING or is_enqueued(trial):
        return False
    start = trial.datetime_start
    now = now or datetime.datetime.now()
    if start is not None and (now - start).total_seconds() > CLAIM_TIMEOUT:
        return False
    return None


def work_of(trial: FrozenTrial) -> tuple[int, int, int] | None:
    """The work item ``(generation, round, slot)`` a trial was claimed for, as it recorded it
    (``None``: not a child, or not claimed yet). Records are for inspection: every worker
    derives the schedule from the tickets alone."""
    record = trial.system_attrs.get(CHILD_RECORD)
    work = record.get("work") if isinstance(record, dict) else trial.system_attrs.get(WORK_KEY)
    return None if work is None else (int(work[0]), int(work[1]), int(work[2]))


def spends_attempt(trial: FrozenTrial) -> bool:
    """Whether a failed attempt counts against its slot's ``max_attempts``: its trial was handed
    its child (it recorded the work item) and no interrupt stopped it
    (:func:`~nasga.evaluation.records.was_interrupted`). A ticket failed while it waited (its
    worker killed, or an :class:`AskAheadError`) never evaluated the genome, and an interrupted
    training was stopped by the run, not by the genome: either way the slot is retried as if
    the attempt had not run. The record and the reason are written before the FAIL state, so
    every reader agrees."""
    return work_of(trial) is not None and not was_interrupted(trial)


def may_take_ticket(trial: FrozenTrial) -> bool:
    """Whether a trial may still take a ticket: fresh, unmarked, and young enough.

    The margin (half the timeout) keeps every worker's view consistent under clock skew.
    """
    if ticket_of(trial) is not None or not is_fresh(trial):
        return False
    start = trial.datetime_start
    if start is None:
        return False
    age = (datetime.datetime.now() - start).total_seconds()
    return age < CLAIM_TIMEOUT / 2


class AskAheadError(RuntimeError):
    """A ticket waits for trials that the waiting thread itself asked and has not told: the
    wait could never end (ask/tell used more than a generation ahead from one thread)."""

    def __init__(self, trial: int, blocking: list[int]) -> None:
        names = ", ".join(str(n) for n in blocking)
        super().__init__(
            f"GeneticSampler: trial {trial} can be bred only once trials {names} have finished, "
            f"and this thread asked them without telling them (a generation's next round and "
            f"the next generation wait for the round before); tell trials {blocking[0]}.. "
            f"before asking more, or use mode=\"steady-state\", which never waits; trial "
            f"{trial} was failed")


@dataclass
class Round:
    """One round of a generation: the slots it (re)tries and its first ticket index.

    ``failures`` counts each slot's earlier attempts that spent one (:func:`spends_attempt`);
    ``trials`` holds its attempts, slot by slot, once they have all finished (final)."""

    generation: int
    index: int
    slots: list[int]
    first_ticket: int
    trials: list[FrozenTrial] | None = None
    failures: dict[int, int] = field(default_factory=dict)

    def failures_after(self, slot: int, attempt: FrozenTrial) -> int | None:
        """The slot's failures counting this finished ``attempt`` (None: it did not fail)."""
        if attempt.state not in _FAILED:
            return None
        return self.failures.get(slot, 0) + spends_attempt(attempt)


@dataclass
class Ledger:
    """One study's tickets and schedule of rounds, as far as they are known (cached per study).

    Everything recorded here is final: classifications and finished states never change, so
    each call only looks at trials newer than the last one seen and at the ones that were still
    unfinished then: its cost does not grow with the study.
    """

    population: int
    max_attempts: int
    steady: bool = False  # steady-state: no rounds, no barrier (every ticket is one child)
    scanned: int = 0
    tickets: list[int] = field(default_factory=list)  # trial numbers, in ticket order
    base_seed: int | None = None
    rounds: list[Round] = field(default_factory=list)
    by_generation: dict[int, list[Round]] = field(default_factory=dict)
    tracked: int = 0  # steady-state: tickets whose state was looked at
    unfinished: set[int] = field(default_factory=set)  # steady-state: ticket indices

    def scan(self, trials: list[FrozenTrial], upto: int) -> bool:
        """Classify trials numbered below ``upto``; False while one of them is not known yet."""
        now = datetime.datetime.now()
        while self.scanned < upto:
            status = ticket_status(trials[self.scanned], now)
            if status is None:
                return False
            if status:
                t = trials[self.scanned]
                if not self.tickets:
                    self.base_seed = ticket_of(t)
                self.tickets.append(t.number)
            self.scanned += 1
        return True

    def __post_init__(self) -> None:
        self._add_round(Round(0, 0, list(range(self.population)), 0))

    def _add_round(self, rnd: Round) -> None:
        self.rounds.append(rnd)
        self.by_generation.setdefault(rnd.generation, []).append(rnd)

    def work_item(self, ticket: int, trials: list[FrozenTrial]) -> tuple[Round, int] | None:
        """The round and slot of ``ticket``, or None while earlier attempts are unfinished."""
        if self.steady:
            generation, slot = divmod(ticket, self.population)
            return Round(generation, 0, [slot], ticket), slot
        while True:
            last = self.rounds[-1]
            offset = ticket - last.first_ticket
            if 0 <= offset < len(last.slots):
                return last, last.slots[offset]
            if not self._extend(trials):
                return None

    def blocking(self, trials: list[FrozenTrial]) -> list[int]:
        """Numbers of the unfinished trials the next round waits for (generational)."""
        return [t.number for t in self.attempts(self.rounds[-1], trials)
                if t is not None and not t.state.is_finished()]

    def settled(self, generation: int, trials: list[FrozenTrial]) -> bool:
        """Whether every slot of ``generation`` is COMPLETE or out of attempts (steady-state:
        every ticket of the generation has finished)."""
        if self.steady:
            last = (generation + 1) * self.population
            self._track(trials)
            return len(self.tickets) >= last and not any(i < last for i in self.unfinished)
        while self.rounds[-1].generation <= generation:
            if not self._extend(trials):
                return False
        return True

    def progress(self, last_generation: int, trials: list[FrozenTrial]) -> int:
        """Settled children of generations ``0..last_generation`` (COMPLETE or PRUNED, or failed
        and out of attempts; steady-state: finished).

        Every generation before the last scheduled round's is settled: all of its
        ``population`` slots count."""
        if self.steady:
            last = min((last_generation + 1) * self.population, len(self.tickets))
            self._track(trials)
            return last - sum(i < last for i in self.unfinished)
        self.settled(last_generation, trials)  # schedules every round it can
        current = self.rounds[-1].generation
        done = self.population * min(current, last_generation + 1)
        if current > last_generation:
            return done
        for rnd in self.by_generation[current]:
            for slot, t in zip(rnd.slots, self.attempts(rnd, trials)):
                if t is None or not t.state.is_finished():
                    continue
                failures = rnd.failures_after(slot, t)
                if failures is None or failures >= self.max_attempts:
                    done += 1  # COMPLETE or PRUNED (final), or failed and out of attempts
        return done

    def complete_trials(self, generation: int, trials: list[FrozenTrial]) -> dict[int, FrozenTrial]:
        """The COMPLETE trial of each slot of ``generation`` so far (a settled generation's
        missing slots failed every attempt), in ticket order."""
        complete: dict[int, FrozenTrial] = {}
        for rnd in self.by_generation.get(generation, []):
            attempts = rnd.trials if rnd.trials is not None else self.attempts(rnd, trials)
            for slot, t in zip(rnd.slots, attempts):
                if t is not None and t.state == TrialState.COMPLETE:
                    complete[slot] = t
        return complete

    def attempts(self, rnd: Round, trials: list[FrozenTrial]) -> list[FrozenTrial | None]:
        """The trials holding ``rnd``'s tickets, slot by slot (None: ticket not taken yet, or
        newer than ``trials``, read before another thread's read)."""
        if rnd.trials is not None:
            return list(rnd.trials)
        out: list[FrozenTrial | None] = []
        for i in range(len(rnd.slots)):
            k = rnd.first_ticket + i
            known = k < len(self.tickets) and self.tickets[k] < len(trials)  # an older read
            out.append(trials[self.tickets[k]] if known else None)
        return out

    def _extend(self, trials: list[FrozenTrial]) -> bool:
        """Schedule the round after the last one, if the last one has finished."""
        last = self.rounds[-1]
        attempts = self.attempts(last, trials)
        if any(t is None or not t.state.is_finished() for t in attempts):
            return False
        last.trials = [t for t in attempts if t is not None]
        first = last.first_ticket + len(last.slots)
        failures = {s: last.failures_after(s, t) for s, t in zip(last.slots, last.trials)}
        retry = {s: n for s, n in failures.items() if n is not None and n < self.max_attempts}
        if retry:
            self._add_round(Round(last.generation, last.index + 1, list(retry), first,
                                  failures=retry))
        else:
            self._add_round(Round(last.generation + 1, 0, list(range(self.population)), first))
        return True

    def _track(self, trials: list[FrozenTrial]) -> None:
        """Steady-state: note new tickets' unfinished trials, forget those that finished."""
        for i in range(self.tracked, len(self.tickets)):
            self.unfinished.add(i)
        self.tracked = len(self.tickets)
        self.unfinished -= {i for i in self.unfinished if self.tickets[i] < len(trials)
                            and trials[self.tickets[i]].state.is_finished()}


def trial_list(trials: list[FrozenTrial], checked: int = 0) -> list[FrozenTrial]:
    """Trials indexed by number. Storages return them in number order: the last one and those
    from ``checked`` on are checked (earlier ones were, on an earlier read); else sorted."""
    if trials and trials[-1].number != len(trials) - 1:
        return sorted(trials, key=lambda t: t.number)
    for i in range(checked, len(trials)):
        if trials[i].number != i:
            return sorted(trials, key=lambda t: t.number)
    return trials
