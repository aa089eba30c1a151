"""``GeneticSampler``: the papers' genetic algorithms as an Optuna sampler.

Generation numbers, parent populations and each generation's bred offspring live in the
study's storage (``BaseGASampler``'s generation attrs plus study system attrs), so a run resumes
by running again and any number of workers sharing the storage breed one population.

Per generation ``g``:

* ``g = 0``: ``population`` random genomes from the space (paper 004 §3.2.1, paper 000 §3.2);
* ``g > 0``: the parents are the previous generation's COMPLETE trials; the strategy (a preset's
  ``breed``: paper 004 Alg. 1 or paper 000 Alg. 1) turns them into ``population`` children, each
  with the operator that made it and its parents' trial numbers (lineage).

Each new trial claims the lowest child slot of its generation not held by a running or
completed trial, so a failed trial's child is proposed again. The GA selects on each genome's
*mean* fitness over all its trainings (paper 004 §3.2.4), read from the objective's user attrs
(``key``, ``fitness_raw`` of each measurement: a training or a reused one); a study whose trials lack them falls back to values.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseGASampler, BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nasga.objective import is_measurement
from nasga.spaces import GeneticCNNSpace, NasgaInputError, Space
from nasga.strategies import Offspring, get_strategy

_LIVE = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.WAITING)


class GeneticSampler(BaseGASampler):
    """Breeds genomes of ``space`` with a strategy preset's DEAP operators.

    Args:
        space: The genome space whose Optuna distributions the objective suggests.
        strategy: A strategy from :mod:`nasga.strategies` (default: the space's preset).
        seed: Seed of every random choice; with one worker, the same seed gives the same
            genomes in the same order. ``None``: a random seed, stored in the study so that
            all workers share it.
        independent_sampler: Samples parameters outside the space (default: random).
    """

    def __init__(
        self,
        *,
        space: Space,
        strategy: Any | None = None,
        seed: int | None = None,
        independent_sampler: BaseSampler | None = None,
    ) -> None:
        if strategy is None:
            strategy = get_strategy("genetic-cnn" if isinstance(space, GeneticCNNSpace) else "unet")
        super().__init__(population_size=strategy.population)
        self._space = space
        self._strategy = strategy
        self._seed = seed
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._offspring_cache: dict[int, list[dict[str, Any]]] = {}

    @property
    def space(self) -> Space:
        """The genome space."""
        return self._space

    @property
    def strategy(self) -> Any:
        """The breeding strategy."""
        return self._strategy

    # --- BaseSampler -----------------------------------------------------------------------
    def reseed_rng(self) -> None:
        self._independent.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._space.distributions

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        if study._is_multi_objective() or study.direction != StudyDirection.MAXIMIZE:
            raise NasgaInputError(
                "direction", "GeneticSampler maximizes one fitness; create the study with "
                f"direction='maximize', got {study.directions}"
            )
        generation = self.get_trial_generation(study, trial)
        offspring = self._offspring(study, generation)
        slot_key = f"{type(self).__name__}:slot"
        if slot_key in trial.system_attrs:  # a retry of a dead worker's trial keeps its child
            slot = int(trial.system_attrs[slot_key])
        elif "fixed_params" in trial.system_attrs:  # enqueued by hand: not one of the children
            study._storage.set_trial_user_attr(trial._trial_id, "ga_generation", generation)
            study._storage.set_trial_user_attr(trial._trial_id, "ga_operator", "enqueued")
            return {}
        else:
            slot = self._claim_slot(study, trial, generation, len(offspring))
        child = offspring[slot]
        storage = study._storage
        storage.set_trial_user_attr(trial._trial_id, "ga_generation", generation)
        storage.set_trial_user_attr(trial._trial_id, "ga_operator", child["operator"])
        storage.set_trial_user_attr(trial._trial_id, "ga_parents", child["parents"])
        genome = self._space.genome(child["genes"])
        return self._space.to_params(genome)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    # --- BaseGASampler ---------------------------------------------------------------------
    def select_parent(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The previous generation's COMPLETE trials (first ``population`` by number).

        Selection proper (roulette, elitism) happens in the strategy's ``breed``.
        """
        population = sorted(self.get_population(study, generation - 1), key=lambda t: t.number)
        return population[: self.population_size]

    def get_trial_generation(self, study: Study, trial: FrozenTrial) -> int:
        """``BaseGASampler``'s rule, scanning only the newest trials.

        The base class reads every COMPLETE trial for each new trial (O(n²) over a study);
        generations grow with trial numbers, so the scan stops after ``2 × population``
        consecutive COMPLETE trials older than the newest generation seen.
        """
        key = self._get_generation_key()
        generation = trial.system_attrs.get(key, None)
        if generation is not None:
            return generation
        trials = study._get_trials(deepcopy=False, states=[TrialState.COMPLETE], use_cache=True)
        max_generation, count, older = 0, 0, 0
        for t in reversed(trials):
            g = t.system_attrs.get(key, -1)
            if g < max_generation:
                older += 1
                if older > 2 * (self.population_size or 1):
                    break
            elif g > max_generation:
                max_generation, count, older = g, 1, 0
            else:
                count += 1
        generation = max_generation + (count >= (self.population_size or 1))
        study._storage.set_trial_system_attr(trial._trial_id, key, generation)
        return generation

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """Like ``BaseGASampler``'s, but keeps order and multiplicity of the cached parents.

        The base class rebuilds the cached population through a ``set`` of trial ids, which
        would collapse an individual that roulette selection picked several times.
        """
        if generation == 0:
            return []
        key = self._get_parent_cache_key_prefix() + str(generation)
        cached = study._storage.get_study_system_attrs(study._study_id).get(key)
        if cached is None:
            parents = self.select_parent(study, generation)
            study._storage.set_study_system_attr(
                study._study_id, key, [t._trial_id for t in parents]
            )
            return parents
        by_id = {t._trial_id: t for t in study._get_trials(deepcopy=False, use_cache=True)}
        return [by_id[i] for i in cached]

    # --- breeding --------------------------------------------------------------------------
    def _base_seed(self, study: Study) -> int:
        if self._seed is not None:
            return self._seed
        key = f"{type(self).__name__}:seed"
        attrs = study._storage.get_study_system_attrs(study._study_id)
        if key not in attrs:
            study._storage.set_study_system_attr(study._study_id, key, secrets.randbits(31))
            attrs = study._storage.get_study_system_attrs(study._study_id)
        return int(attrs[key])

    def _rng(self, study: Study, generation: int) -> random.Random:
        return random.Random(f"nasga:{self._base_seed(study)}:{generation}")

    def _offspring(self, study: Study, generation: int) -> list[dict[str, Any]]:
        if generation in self._offspring_cache:
            return self._offspring_cache[generation]
        key = f"{type(self).__name__}:offspring:{generation}"
        stored = study._storage.get_study_system_attrs(study._study_id).get(key)
        if stored is None:
            study._storage.set_study_system_attr(
                study._study_id, key, self._breed(study, generation)
            )
            stored = study._storage.get_study_system_attrs(study._study_id)[key]
        self._offspring_cache[generation] = stored
        return stored

    def _breed(self, study: Study, generation: int) -> list[dict[str, Any]]:
        rng = self._rng(study, generation)
        if generation == 0:
            return [
                {"genes": self._space.to_vector(self._space.random_genome(rng)),
                 "operator": "random", "parents": []}
                for _ in range(self.population_size or 0)
            ]
        parents = self.get_parent_population(study, generation)
        if not parents:
            raise RuntimeError(f"generation {generation - 1} has no COMPLETE trial to breed from")
        fitness = key_fitness(study)
        genes = [self._space.to_vector(self._space.from_params(t.params)) for t in parents]
        values = [fitness.get(t.user_attrs.get("key"), t.value) for t in parents]
        children: Sequence[Offspring] = self._strategy.breed(
            genes, [float(v) for v in values], space=self._space, rng=rng
        )
        return [
            {"genes": list(c.genes), "operator": c.operator,
             "parents": [parents[i].number for i in c.parents]}
            for c in children
        ]

    def _claim_slot(self, study: Study, trial: FrozenTrial, generation: int, n_slots: int) -> int:
        slot_key = f"{type(self).__name__}:slot"
        held = set()
        count, older = 0, 0
        for t in reversed(study._get_trials(deepcopy=False, use_cache=False)):
            if t._trial_id == trial._trial_id:
                continue
            g = t.system_attrs.get(self._get_generation_key())
            if g is not None and g < generation:
                older += 1
                if older > 2 * n_slots:  # generations grow with trial numbers
                    break
            if g != generation:
                continue
            older = 0
            count += 1
            if t.state in _LIVE and slot_key in t.system_attrs:
                held.add(t.system_attrs[slot_key])
        free = [s for s in range(n_slots) if s not in held]
        slot = free[0] if free else count % n_slots
        study._storage.set_trial_system_attr(trial._trial_id, slot_key, slot)
        return slot


def key_fitness(study: Study) -> dict[str, float]:
    """Mean fitness of each genome key over all its trainings (paper 004 §3.2.4)."""
    sums: dict[str, list[float]] = defaultdict(list)
    for t in study._get_trials(deepcopy=False, states=(TrialState.COMPLETE,), use_cache=True):
        attrs = t.user_attrs
        if is_measurement(attrs) and "fitness_raw" in attrs:
            value = float(attrs["fitness_raw"])
            if math.isfinite(value):
                sums[attrs["key"]].append(value)
    return {k: sum(v) / len(v) for k, v in sums.items()}
