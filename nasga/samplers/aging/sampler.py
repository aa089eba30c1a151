"""``AgingEvolutionSampler``: aging (regularized) evolution as an Optuna sampler.

Real et al. 2019, "Regularized Evolution for Image Classifier Architecture Search" (AAAI),
§2 and Algorithm 1, run asynchronously as in the paper's workers (§2, "Evolutionary
algorithm"): there is no generation barrier, each new trial breeds from what has finished.

* The first ``population`` trials of this sampler (ranked by trial number) are random models;
  with several objectives graded over the cost axis (:meth:`Space.graded_genome`, member ``i``
  in stratum ``i`` of ``[0, 1]``; docs/design.md, "Several objectives").
* Every later trial is one cycle of Algorithm 1: the *population* is the ``population`` most
  recent COMPLETE trials (highest trial numbers among the finished ones; older ones are
  retired, "aging"); ``sample_size`` of them are drawn uniformly without replacement, the best
  of the sample (direction-adjusted value) is the parent, and one mutation of it is the child.
* Mutation changes one thing (§2, "mutations"): on a nasga space one gene with the space's own
  operator (:func:`~nasga.samplers.ga.operators.mut_flip_bit` on one bit of a Genetic-CNN genome,
  :func:`~nasga.samplers.ga.operators.mut_channel_set` on one gene of a U-Net genome); on any other Optuna
  search space one parameter, drawn uniformly, is resampled from its distribution (int and
  categorical: another value), the others copied from the parent.
* A child equal to a COMPLETE or RUNNING trial (same canonical key on a nasga space, same
  params otherwise) is bred again, up to ``max_rebreeds`` times, so that an objective with a
  cache trains something new on nearly every trial.
* ``reevaluate = q > 0`` (nasga's addition for noisy fitness, not in Real et al.): with
  probability ``q`` a cycle proposes the tournament winner itself again, a re-measurement,
  while fewer than ``rebreed_after`` live trials share it; its new trial's value is the
  objective's mean over the repeats, so a lucky first measurement is corrected before it breeds
  on (resampling for noisy fitness). ``q = 0`` is Algorithm 1 exactly.
* ``intensify = True`` (nasga's addition, the intensification of SMAC, Hutter et al. 2011,
  §4.2): before any tournament, a cycle re-proposes the *challenger*, the model with the best
  mean among those measured fewer than ``rebreed_after`` times (live trials) whose mean is at
  least the *incumbent's*, the best mean among models measured ``rebreed_after`` times (any
  mean while none is). A model that looks good is measured until it is one of the incumbent's
  peers or falls behind; one that looks worse is never measured again, so few models end with
  ``rebreed_after`` measurements and the best of them is less often a lucky one (issue 16).

* ``rungs = True`` (nasga's multi-fidelity tournament, issue 27; docs/design.md, "Pruning"):
  the population also holds the trials the study's pruner stopped, and a tournament compares
  its sample at their highest common rung (:func:`~nasga.samplers.aging.operators.rung_tournament`),
  not a stopped trial's last value against others' final ones (Syne Tune's shape).
  Whatever ``rungs``, a key the pruner stopped is never proposed again as a child: its training
  would replay from epoch 0 with the same seed.

Values are adjusted to the study's direction (minimize: negated); non-finite values are clipped
to the population's finite extremes (``+inf`` ties with the best, ``-inf`` with the worst).
Several objectives (``directions=[...]``): each objective is adjusted so, and the tournament's
winner is drawn uniformly among the sample's non-dominated members
(:func:`~nasga.samplers.aging.operators.pareto_tournament`); ``intensify`` is refused there
(docs/design.md, "Several objectives").
Lineage as :class:`~nasga.samplers.ga.sampler.GeneticSampler` records it (one
:data:`~nasga.evaluation.records.CHILD_RECORD` per trial): ``ga_operator`` (``"random"`` or
``"mutation"``), ``ga_parents`` and ``ga_generation`` (rank // population), so
:mod:`nasga.results.stats` groups the trials in blocks of ``population``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.samplers._lazy_random_state import LazyRandomState
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.errors import check_int, check_probability, is_int
from nasga.samplers.aging._breeding import Breeding
from nasga.samplers.aging._identity import (
    OLD_CHILD_KEY, child_identity, inside, trial_identity,
)
from nasga.samplers.aging.operators import (
    mutate_one_gene, resample, tournament, tournament_values,
)
from nasga.samplers.aging.history import History, Taken, Views
from nasga.samplers.aging.intensify import INTENSIFY_ONE_OBJECTIVE, Board
from nasga.samplers.ga.breeding import RANDOM_TRIES, graded_size
from nasga.search.faults import kill_point
from nasga.spaces import NasgaInputError, Space
from nasga.storages.handle import is_fresh

RUNGS_ONE_OBJECTIVE = ("compares curves of one objective (Optuna refuses pruning in "
                       "multi-objective studies)")


class AgingEvolutionSampler(BaseSampler):
    """Aging evolution (Real et al. 2019, Algorithm 1) over a nasga space or any search space.

    Args:
        population: ``P``, the number of most recent COMPLETE trials that form the population;
            also the number of random trials that start the search (``P >= 2``).
        sample_size: ``S``, trials drawn for each tournament (``1 <= S <= P``).
        space: A nasga genome space (mutations use its operators); ``None``: the intersection
            search space of the study's COMPLETE trials, as Optuna's NSGA-II infers it.
        seed: Base seed; trial ``n``'s choices use ``random.Random("nasga-aging:<seed>:<n>")``,
            so one worker with the same seed proposes the same trials. ``None``: a random base
            seed, stored in the study (:attr:`SEED_KEY`) and read back so workers share it.
        independent_sampler: Samples parameters outside the space, and the generic random
            trials (default: ``RandomSampler(seed)``).
        max_rebreeds: Extra tournaments for a child that equals a COMPLETE or RUNNING trial
            before it is proposed anyway (``>= 0``).
        rebreed_after: A child is re-bred when at least this many COMPLETE or RUNNING trials
            share its identity (default 1: any). With an objective that caches after ``k``
            trainings (nasga's ``max_evaluations = k``), ``k`` lets good genomes be measured
            ``k`` times and re-breeds only what the cache would answer.
        reevaluate: Probability (``0 <= q <= 1``) that a cycle re-proposes its tournament
            winner (when fewer than ``rebreed_after`` live trials share it) instead of a
            mutant; useful with noisy fitness and ``rebreed_after > 1``. Default 0: Algorithm 1.
        intensify: Re-propose the challenger (see above) before breeding while it beats the
            incumbent, else propose only new models; needs ``rebreed_after > 1`` to do
            anything, and leaves ``reevaluate`` nothing to re-measure. Default False.
        rungs: Let the trials the pruner stopped into the population and hold tournaments at
            the sample's highest common rung (one objective only). Default False.

    Raises:
        NasgaInputError: A bad argument (names the rule and the value).
    """

    SEED_KEY = "nasga:aging:seed"
    """Study system attr: the base seed of a study searched with ``seed=None``."""
    MEMBER_KEY = "nasga:aging:member"
    """Trial system attr of studies before 0.2 marking this sampler's trials (value: the base
    seed used); now the ``"member"`` field of the trial's
    :data:`~nasga.evaluation.records.CHILD_RECORD`."""
    CHILD_KEY = OLD_CHILD_KEY
    """Trial system attr of studies before 0.2: the identity of the proposed child (genome key,
    or params); now the ``"identity"`` field of the trial's
    :data:`~nasga.evaluation.records.CHILD_RECORD`, which holds its lineage too."""

    def __init__(
        self,
        *,
        population: int = 20,
        sample_size: int = 5,
        space: Space | None = None,
        seed: int | None = None,
        independent_sampler: BaseSampler | None = None,
        max_rebreeds: int = 10,
        rebreed_after: int = 1,
        reevaluate: float = 0.0,
        intensify: bool = False,
        rungs: bool = False,
    ) -> None:
        check_int("population", population, minimum=2)
        check_int("sample_size", sample_size)
        if sample_size > population:
            raise NasgaInputError(
                "sample_size", f"must be <= population ({population}), got {sample_size!r}")
        check_int("max_rebreeds", max_rebreeds, minimum=0)
        check_int("rebreed_after", rebreed_after)
        reevaluate = check_probability("reevaluate", reevaluate)
        for name, flag in (("intensify", intensify), ("rungs", rungs)):
            if not isinstance(flag, bool):
                raise NasgaInputError(name, f"must be True or False, got {flag!r}")
        if seed is not None and not is_int(seed):
            raise NasgaInputError("seed", f"must be an integer or None, got {seed!r}")
        if space is not None and not isinstance(space, Space):
            raise NasgaInputError(
                "space", f"must be a GeneticCNNSpace, a UNetSpace or None, got {space!r}")
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise NasgaInputError("independent_sampler",
                                  f"must be an Optuna sampler, got {independent_sampler!r}")
        self._population = population
        self._space = space
        self._seed = seed
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._rebreed_after = rebreed_after
        self._intensify = intensify
        self._rungs = rungs
        self._breeding = Breeding(space, sample_size, max_rebreeds, reevaluate)
        self._rng = LazyRandomState(seed)
        self._lock = threading.RLock()
        self._histories: dict[tuple[int, int], History] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        del state["_histories"]  # a cache of the storage: read again where unpickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._histories = {}

    @property
    def population_size(self) -> int:
        """``P``: population size and number of random trials."""
        return self._population

    @property
    def sample_size(self) -> int:
        """``S``: tournament size."""
        return self._breeding.sample_size

    @property
    def space(self) -> Space | None:
        """The nasga genome space, or ``None`` for any Optuna search space."""
        return self._space

    # --- BaseSampler -----------------------------------------------------------------------
    def reseed_rng(self) -> None:
        with self._lock:
            self._rng.rng.seed()
            self._seed = None
        self._independent.reseed_rng()

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    @classmethod
    def member_seed(cls, trial: FrozenTrial) -> int | None:
        """The base seed a trial of this sampler was bred with (``None``: not one of its
        trials, or not sampled yet). A fresh trial becomes a member when it is sampled: its one
        record (:data:`~nasga.evaluation.records.CHILD_RECORD`) holds the seed."""
        record = trial.system_attrs.get(R.CHILD_RECORD)
        if isinstance(record, dict) and "member" in record:
            return int(record["member"])
        if cls.MEMBER_KEY in trial.system_attrs:  # studies before 0.2
            return int(trial.system_attrs[cls.MEMBER_KEY])
        return None

    @classmethod
    def is_member(cls, trial: FrozenTrial) -> bool:
        """Whether ``trial`` was sampled by this sampler (enqueued trials, retry copies and
        other samplers' trials are not)."""
        return cls.member_seed(trial) is not None

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._independent.after_trial(study, trial, state, values)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if self._space is not None:
            return dict(self._space.distributions)
        with self._lock:
            return self._history(study, trial.number).relative_search_space()

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if len(study.directions) > 1:
            if self._intensify:
                raise NasgaInputError("intensify", INTENSIFY_ONE_OBJECTIVE)
            if self._rungs:
                raise NasgaInputError("rungs", RUNGS_ONE_OBJECTIVE)
        member = self.member_seed(trial)
        if member is None:
            if not is_fresh(trial):
                return {}  # enqueued, a retry copy, or another sampler's trial
            member = self.base_seed(study)
        kill_point("sampling")
        rng = random.Random(f"nasga-aging:{member}:{trial.number}")
        with self._lock:
            history = self._history(study, trial.number)
            rank = history.rank(trial.number)
            child, parents, operator = self._propose(
                history, trial.number, rank, search_space, study.directions, rng)
        self._record(study, trial, member, child, {
            R.GA_OPERATOR: operator, R.GA_PARENTS: parents,
            R.GA_GENERATION: rank // self._population})
        return child or {}

    def _history(self, study: Study, number: int) -> History:
        """The study's :class:`~nasga.samplers.aging.history.History`, refreshed for trial
        ``number``: the new and the unfinished trials read (once for a trial's search space
        and its sample)."""
        storage = study._storage
        history = self._histories.get((id(storage), study._study_id))
        if history is None or history.storage is not storage:
            history = History(storage, self.is_member)
            self._histories[(id(storage), study._study_id)] = history
        if history.read_for != number:
            history.refresh(study._study_id)
            history.read_for = number
        return history

    def _views(self, history: History, search_space: dict[str, BaseDistribution],
               directions: Sequence[StudyDirection]) -> Views:
        space = dict(search_space)
        return history.views_for(space, lambda: Views(
            space, lambda t: self._identity(t, space), lambda t: inside(t.params, space),
            self._population,
            Board(directions[0], self._rebreed_after) if self._intensify else None, self._rungs))

    def _propose(self, history: History, number: int, rank: int,
                 search_space: dict[str, BaseDistribution],
                 directions: Sequence[StudyDirection], rng: random.Random
                 ) -> tuple[dict[str, Any] | None, list[int], str]:
        """Trial ``number``'s child, its parents' numbers and its operator: the challenger
        (``intensify``), a random model (the first ``P`` members by ``rank``; graded over the
        cost axis with several objectives) or one cycle."""
        if not search_space:  # nothing finished yet (any search space): the independent sampler
            return None, [], "random"
        views = self._views(history, search_space, directions)
        running = history.running(number, views.identity)
        challenger, beats = views.board.challenger(views.finished, running) \
            if views.board is not None else (None, False)
        again = None if challenger is None else (
            {k: challenger.params[k] for k in search_space}, [challenger.number], "intensify")
        if again is not None and beats:
            return again
        # Intensifying, re-measurements are the challenger's alone: children must be new.
        taken = Taken(views.finished, running, 1 if self._intensify else self._rebreed_after,
                      views.stopped)
        population = views.population
        if rank < self._population or not population:
            size = graded_size(rank, self._population, rng, len(directions))
            return self._breeding.random_child(search_space, rng, taken, size=size), [], "random"
        values = tournament_values(population, directions, rungs=self._rungs)
        child, parent = self._breeding.bred_child(population, values, search_space, rng, taken)
        if self._intensify and self._child_identity(child) in taken:
            # Once RANDOM_TRIES draws found nothing new, the space is as good as exhausted
            # (finished keys stay taken): later cycles try only max_rebreeds + 1 draws.
            fresh = self._breeding.random_child(search_space, rng, taken,
                                                None if views.exhausted else RANDOM_TRIES)
            if fresh is not None and self._child_identity(fresh) not in taken:
                return fresh, [], "random"
            views.exhausted = fresh is not None
            if again is not None:  # nothing new found: the best model not measured enough
                return again
            if views.stopped:  # nothing to confirm either: train a stopped key again, not a
                # cached answer (its curve replays; the rungs it is raced at have moved on)
                child, parent = self._breeding.bred_child(population, values, search_space,
                                                          rng, Taken(views.finished, running, 1))
        return child, [parent.number], "mutation"

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    # --- seeds and bookkeeping -------------------------------------------------------------
    def base_seed(self, study: Study) -> int:
        """The base seed of ``study``: the constructor's, else the one stored in the study.

        With ``seed=None`` the first worker to find no :attr:`SEED_KEY` stores a random one;
        every call reads it back (no cache), so workers that raced to store it agree again from
        their next trial on. Each trial records the seed it used (:meth:`member_seed`).
        """
        with self._lock:
            if self._seed is not None:
                return self._seed
        storage = study._storage
        attrs = storage.get_study_system_attrs(study._study_id)
        if self.SEED_KEY not in attrs:
            with self._lock:
                proposal = int(self._rng.rng.randint(2**31))
            storage.set_study_system_attr(study._study_id, self.SEED_KEY, proposal)
            attrs = storage.get_study_system_attrs(study._study_id)
        return int(attrs[self.SEED_KEY])

    def _record(self, study: Study, trial: FrozenTrial, member: int,
                child: dict[str, Any] | None, lineage: dict[str, Any]) -> None:
        """Write the trial's one record (:data:`~nasga.evaluation.records.CHILD_RECORD`): the
        base seed it was bred with, its child's identity (``None``: the independent sampler
        draws it) and its lineage."""
        identity = None if child is None else self._child_identity(child)
        study._storage.set_trial_system_attr(
            trial._trial_id, R.CHILD_RECORD,
            {"member": member, "identity": identity, "lineage": lineage})

    def _identity(self, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> Any:
        return trial_identity(self._space, trial, search_space)

    def _child_identity(self, child: dict[str, Any]) -> str:
        return child_identity(self._space, child)


__all__ = ["AgingEvolutionSampler", "mutate_one_gene", "resample", "tournament"]
