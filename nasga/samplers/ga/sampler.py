"""``GeneticSampler``: the papers' genetic algorithms as an Optuna sampler.

Per generation ``g`` (docs/design.md, "The sampler: claims, generations, retries"):

* ``g = 0``: ``population`` random genomes from the space (paper 004 §3.2.1, paper 000 §3.2);
* ``g > 0``: the parents are generation ``g-1``'s COMPLETE children with a full genome; the
  strategy (a preset's ``breed``: paper 004 Alg. 1 or paper 000 Alg. 1) turns them into
  ``population`` children, each with the operator that made it and its parents' trial numbers.

Each child is claimed exactly once through :mod:`nasga.samplers.ga.claims` (tickets ranked by trial number),
by any number of threads, processes and machines; a failed child is retried up to
``max_attempts`` times in all, then counts as failed; a pruned one is final (issue 27). Breeding reads finished data only, so
workers that breed the same generation concurrently breed the same children.

``mode="steady-state"`` uses the same operators without a generation barrier: after the first
``population`` random children, each new trial is one child bred from the ``population`` fittest
genomes finished so far (each new one replaces the worst, GENITOR-style), so any number of
workers stays busy.
``rebreed_after=k`` re-breeds a child whose genome already has ``k`` measurements (the
objective's ``max_evaluations``) instead of proposing a cache answer (module
:mod:`nasga.samplers.ga.breeding`).

Selection uses each genome's *mean* fitness over its trainings (paper 004 §3.2.4), adjusted to
the study's direction, non-finite values clipped (:mod:`nasga.samplers.ga.breeding`).
Several objectives (``directions=[...]``): a genome's value is its per-objective means, the
parents are NSGA-II's pool of ``population`` genomes chosen by DEAP's ``selNSGA2`` and weighed
in its crowded-comparison order (:mod:`nasga.samplers.ga.pareto`; docs/design.md, "Several
objectives").
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.samplers._lazy_random_state import LazyRandomState
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.samplers.ga._pool import Fold, GenerationFold, SteadyPool, StudyCache
from nasga.samplers.ga._breeder import Breeder
from nasga.samplers.ga.claims import (
    TICKET_KEY, AskAheadError, Ledger, Round, may_take_ticket, ticket_of, trial_list, work_of,
)
from nasga.errors import check_int, is_int
from nasga.search.faults import kill_point
from nasga.spaces import Genome, NasgaInputError, Space
from nasga.storages.heartbeat import beat, fail_stale_trials
from nasga.storages.handle import is_retry_copy
from nasga.samplers.ga.strategies import MODES, get_strategy

_logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class GeneticSampler(BaseSampler):
    """Breeds genomes of ``space`` with a strategy preset's DEAP operators.

    Args:
        space: The genome space whose Optuna distributions the objective suggests.
        strategy: A strategy from :mod:`nasga.samplers.ga.strategies` (default: the space's preset).
        seed: Seed of every random choice; with one worker, the same seed gives the same
            genomes in the same order. ``None``: a random seed, stored in the study's first
            ticket so that all workers share it.
        independent_sampler: Samples parameters outside the space (default: random).
        max_attempts: Evaluations of a child that fails (exception, NaN; not pruned, not
            interrupted) before it counts as failed for selection.
        grace_period: Seconds without a heartbeat before a journal-storage trial of a dead
            worker is failed while this sampler waits for it (RDB storages use their own
            heartbeat settings); ``None``: only RDB heartbeats.
        mode: ``"generational"`` (the papers' Algorithm 1, a barrier between generations) or
            ``"steady-state"`` (one child per new trial from the fittest finished genomes).
        rebreed_after: Re-breed (up to ``breeding.REBREED_TRIES`` times) a child whose genome
            already has this many measurements; ``None``: keep every child (the papers).
        feasible: A hard cost budget: children for which it returns False are re-bred and
            never proposed (e.g. :class:`nasga.evaluation.budget.CostBudget` over a task's MACs/params).
    """

    OFFSPRING_KEY = "nasga:offspring:"
    """Study system attr prefix holding each generation's children (for inspection)."""
    retries_failed_trials = True
    """Failed children are retried by the sampler: storages must not re-enqueue them."""

    def __init__(
        self,
        *,
        space: Space,
        strategy: Any | None = None,
        seed: int | None = None,
        independent_sampler: BaseSampler | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        grace_period: float | None = None,
        mode: str = "generational",
        rebreed_after: int | None = None,
        feasible: Callable[[Genome], bool] | None = None,
    ) -> None:
        if mode not in MODES:
            raise NasgaInputError("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
        if rebreed_after is not None and (not is_int(rebreed_after) or rebreed_after < 1):
            raise NasgaInputError("rebreed_after",
                                  f"must be an integer >= 1 or None, got {rebreed_after!r}")
        check_int("max_attempts", max_attempts)
        if seed is not None and not is_int(seed):
            raise NasgaInputError("seed", f"must be an integer or None, got {seed!r}")
        if strategy is None:
            strategy = get_strategy(space.strategy_name)
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._rng = LazyRandomState(seed)
        self._space = space
        self._strategy = strategy
        self._seed = seed
        self._max_attempts = max_attempts
        self._grace_period = grace_period
        self._mode = mode
        self._rebreed_after = rebreed_after
        self._feasible = feasible
        self._breeder = Breeder(space, strategy, mode, rebreed_after, feasible)
        self._poll = 0.05
        self._init_caches()

    def _init_caches(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[tuple[int, int], StudyCache] = {}
        self._asked: dict[tuple[int, int, int], int] = {}  # untold trial -> asking thread
        self._tickets: dict[tuple[int, int, int], int] = {}  # tickets this process wrote
        self._claimed: dict[tuple[int, int, int], dict[str, Any]] = {}  # params claimed at ask

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_lock", "_studies", "_asked", "_tickets", "_claimed"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_caches()

    @property
    def space(self) -> Space:
        """The genome space."""
        return self._space

    @property
    def strategy(self) -> Any:
        """The breeding strategy."""
        return self._strategy

    @property
    def mode(self) -> str:
        """``"generational"`` or ``"steady-state"``."""
        return self._mode

    @property
    def population_size(self) -> int:
        """Children per generation."""
        return int(self._strategy.population)

    # --- BaseSampler -----------------------------------------------------------------------
    def reseed_rng(self) -> None:
        self._rng.rng.seed()
        self._seed = None
        self._independent.reseed_rng()

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        with self._lock:
            self._asked[_trial_key(study, trial)] = threading.get_ident()
        self._take_ticket(study, trial)
        self._independent.before_trial(study, trial)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        with self._lock:
            for cache in (self._asked, self._tickets, self._claimed):
                cache.pop(_trial_key(study, trial), None)
        self._independent.after_trial(study, trial, state, values)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return dict(self._space.distributions)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        if not self._take_ticket(study, trial):
            return {}  # enqueued, a retry copy or another sampler's: not a child
        with self._lock:
            params = self._claimed.pop(_trial_key(study, trial), None)
        if params is None:  # the work item was not known at ask time: claim it now
            kill_point("sampling")
            params, record = self._child(study, trial, *self._claim(study, trial))
            if work_of(trial) is None:
                study._storage.set_trial_system_attr(trial._trial_id, R.CHILD_RECORD, record)
        return {k: v for k, v in params.items() if k in search_space}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    # --- claims ----------------------------------------------------------------------------
    def _take_ticket(self, study: Study, trial: FrozenTrial) -> bool:
        """Mark a fresh trial as a ticket holder (the value: the base seed it proposes).

        When the ticket's work item is known at once (one worker, or a round with slots
        left), the ticket, the work item and the lineage go to storage as one child record and
        the child's params wait in this process for ``sample_relative``; otherwise a bare
        ticket is written and ``sample_relative`` claims (and may wait)."""
        if is_retry_copy(trial):
            return False  # a retry callback's copy carries its original's ticket: not a child
        if self._ticket(study, trial) is not None:
            return True
        if not may_take_ticket(trial):
            return False
        key = _trial_key(study, trial)
        with self._lock:
            proposal = self._seed if self._seed is not None else int(self._rng.rng.randint(2**31))
            self._tickets[key] = proposal  # the first ticket's proposal seeds the ledger
        ledger = self.ledger(study)
        first = ledger.base_seed is None
        try:
            found = self._try_claim(study, trial, abandon=False)
            if found is None:
                study._storage.set_trial_system_attr(trial._trial_id, TICKET_KEY, proposal)
                return True
            params, record = self._child(study, trial, *found)
            study._storage.set_trial_system_attr(trial._trial_id, R.CHILD_RECORD,
                                                 {"ticket": proposal, **record})
        except BaseException:
            with self._lock:
                self._tickets.pop(key, None)
                if first:
                    ledger.base_seed = None  # a proposal never stored seeds nothing
            raise
        with self._lock:
            self._claimed[key] = params
        kill_point("sampling")
        return True

    def claim_waits(self, study: Study, trial: Any) -> bool:
        """Whether sampling ``trial`` (asked here, not sampled yet) may wait for other trials:
        it took a ticket whose work item was unknown at ask time. One thread asking several
        trials before telling them (a fused batch) samples such a trial only with none untold."""
        with self._lock:
            key = _trial_key(study, trial)
            return key in self._tickets and key not in self._claimed

    def _ticket(self, study: Study, trial: FrozenTrial) -> int | None:
        """The ticket ``trial`` holds: stored, or written by this process since it was read."""
        stored = ticket_of(trial)
        if stored is not None:
            return stored
        with self._lock:
            return self._tickets.get(_trial_key(study, trial))

    def _child(self, study: Study, trial: FrozenTrial, rnd: Round, slot: int,
               trials: list[FrozenTrial]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The params of the child at ``(rnd, slot)`` and its child record (work item and
        lineage; :data:`~nasga.evaluation.records.CHILD_RECORD`)."""
        if self._mode == "steady-state" and rnd.generation > 0:
            with self._lock:
                child = self._breeder.steady(rnd.first_ticket, self._cache(study), trials,
                                             study.directions)
        else:
            child = self._children(study, rnd.generation)[slot]
        lineage = {R.GA_GENERATION: rnd.generation, R.GA_OPERATOR: child["operator"],
                   R.GA_PARENTS: child["parents"]}
        record = {"work": [rnd.generation, rnd.index, slot], "lineage": lineage}
        return self._space.to_params(self._space.genome(child["genes"])), record

    def _cache(self, study: Study) -> StudyCache:
        """This study's cached schedule and breeding data (one per study and storage)."""
        key = (id(study._storage), study._study_id)
        with self._lock:
            if key not in self._studies:
                ledger = Ledger(self.population_size, self._max_attempts,
                                steady=self._mode == "steady-state")
                directions, size = study.directions, self.population_size
                self._studies[key] = StudyCache(
                    ledger, GenerationFold(self._space, directions, size),
                    SteadyPool(Fold(self._space, directions), size=size))
            return self._studies[key]

    def ledger(self, study: Study) -> Ledger:
        """This study's tickets and rounds (one cache per study and storage)."""
        return self._cache(study).ledger

    def _read(self, study: Study) -> list[FrozenTrial]:
        """The study's trials by number, read once (only trials not seen before are checked).

        All of them: under Optuna's ``HyperbandPruner`` a sampler is handed a study that shows
        one bracket's trials only, while tickets are ranked among all (docs/design.md,
        "Pruning")."""
        cache = self._cache(study)
        trials = trial_list(study._storage.get_all_trials(study._study_id, deepcopy=False),
                            cache.checked)
        cache.checked = len(trials)
        return trials

    def settled(self, study: Study, generation: int) -> bool:
        """Whether every child of ``generation`` is COMPLETE or out of attempts."""
        trials = self._read(study)
        ledger = self.ledger(study)
        with self._lock:
            ledger.scan(trials, len(trials))
            return ledger.settled(generation, trials)

    def progress(self, study: Study, last_generation: int) -> tuple[int, int]:
        """(settled children, all children) of generations ``0..last_generation``."""
        trials = self._read(study)
        ledger = self.ledger(study)
        with self._lock:
            ledger.scan(trials, len(trials))
            done = ledger.progress(last_generation, trials)
        return done, self.population_size * (last_generation + 1)

    def _try_claim(self, study: Study, trial: FrozenTrial, *, abandon: bool = True
                   ) -> tuple[Round, int, list[FrozenTrial]] | None:
        """This ticket's work item from one read, or None while it depends on unfinished or
        unclassified earlier trials.

        Raises:
            AskAheadError: It depends on trials this thread asked and has not told (only with
                ``abandon``: the ticket is then failed).
        """
        ledger = self.ledger(study)
        trials = self._read(study)
        with self._lock:
            found, own = None, []
            if ledger.scan(trials, trial.number):
                found = ledger.work_item(bisect.bisect_left(ledger.tickets, trial.number),
                                         trials)
                if found is None:
                    own = [n for n in ledger.blocking(trials) if self._asked.get(
                        (id(study._storage), study._study_id, n)) == threading.get_ident()]
        if own and abandon:
            self._abandon(study, trial, AskAheadError(trial.number, own))
        if found is None:
            return None
        if ledger.base_seed is None:  # this trial holds the study's first ticket
            ledger.base_seed = self._ticket(study, trial)
        return found[0], found[1], trials

    def _claim(self, study: Study, trial: FrozenTrial
               ) -> tuple[Round, int, list[FrozenTrial]]:
        """This ticket's work item and the trials read to find it, waiting for earlier trials
        where the order needs them.

        Raises:
            AskAheadError: The wait is for trials this thread asked and has not told.
        """
        waited, warned = 0.0, False
        while True:
            found = self._try_claim(study, trial)
            if found is not None:
                return found
            if waited > 30 and not warned:
                _logger.warning("GeneticSampler: trial %d waits for earlier trials of its "
                                "generation to finish", trial.number)
                warned = True
            kill_point("claim-wait")
            beat(study._storage, trial._trial_id)  # alive, not a worker that died sampling
            fail_stale_trials(study, grace_period=self._grace_period)
            pause = min(0.5, self._poll * (1 + waited))
            time.sleep(pause)
            waited += pause

    def _abandon(self, study: Study, trial: FrozenTrial, error: AskAheadError) -> None:
        """Fail a ticket that could only wait forever (nobody else waits for it then), and
        raise ``error``; the ticket never had its child, so its slot is retried without
        spending an attempt (:func:`~nasga.samplers.ga.claims.spends_attempt`)."""
        study._storage.set_trial_user_attr(trial._trial_id, R.FAIL_REASON, str(error))
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        with self._lock:
            self._asked.pop(_trial_key(study, trial), None)
        raise error

    # --- breeding --------------------------------------------------------------------------
    def _children(self, study: Study, generation: int) -> list[dict[str, Any]]:
        """The children of ``generation`` (bred once per process; all processes agree)."""
        cache = self._cache(study)
        with self._lock:
            if generation in cache.offspring:
                return cache.offspring[generation]
            children = self._breeder.generation(generation, cache, study.directions)
            cache.offspring[generation] = children
        study._storage.set_study_system_attr(
            study._study_id, f"{self.OFFSPRING_KEY}{generation}", children)
        return children


def _trial_key(study: Study, trial: FrozenTrial) -> tuple[int, int, int]:
    return id(study._storage), study._study_id, trial.number
