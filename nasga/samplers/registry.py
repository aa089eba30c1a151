"""The one table of sampler names: every sampler a study or a comparison may name.

``[study] sampler`` in a study file, ``nasga run --sampler``, ``nasga worker`` (which reads the
stored name back) and ``nasga compare --samplers`` all take a name of :data:`SAMPLERS` (a study
every one but ``ga-unet``, :data:`STUDY_SAMPLERS`), and
:func:`make_sampler` builds it, seeded, from the validated settings (:class:`SamplerArgs`): the
space, the strategy, the seed and ``max_evaluations``. A study's ``max_evaluations`` is its
strategy's; a comparison's is its ``--max-evaluations``, the same for every sampler. The help
texts of both commands are written from the table (:func:`sampler_help`), so a name added here is
known everywhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from nasga.samplers.aging.intensify import INTENSIFY_ONE_OBJECTIVE
from nasga.samplers.ga.strategies import Offspring, UNetStrategy
from nasga.spaces import GeneticCNNSpace, NasgaInputError, Space, UNetSpace

GA_VARIANTS = {"ga-dedup": "generational", "ga-steady": "steady-state"}
"""nasga's GA with duplicate elimination (``rebreed_after = max_evaluations``), by mode."""
AGING_PRESETS: dict[str, dict[str, Any]] = {
    "aging-reeval": {"population": 10, "sample_size": 5, "reevaluate": 0.5},
    "aging-intensify": {"population": 10, "sample_size": 5, "intensify": True},
    "aging-asha": {"population": 10, "sample_size": 5, "intensify": True, "rungs": True},
}
"""Aging evolution for noisy fitness (:class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler`),
P = 10, S = 5, re-measuring up to ``max_evaluations`` times: ``aging-reeval`` re-measures the
tournament winner on half the cycles (``reevaluate``); ``aging-intensify`` re-measures a model
only while its mean is at least the incumbent's (``intensify``, SMAC's intensification);
``aging-asha`` is ``aging-intensify`` under asynchronous successive halving (:data:`RACE`) with
tournaments at the highest common rung (``rungs``). P, S and ``reevaluate`` were chosen on the
two benchmark tables (README, "Comparisons")."""
RACE: dict[str, Any] = {"name": "successive-halving", "reduction_factor": 3}
"""The pruner of the multi-fidelity presets (``aging-asha``, ``ga-race``) when the study names
none: Optuna's ``SuccessiveHalvingPruner`` (asynchronous successive halving, Li et al. 2020)
with reduction factor 3 and Optuna's estimated first rung; docs/design.md, "Pruning"."""


@dataclass(frozen=True)
class BinaryUNetStrategy(UNetStrategy):
    """Paper 000's breeding scheme on a binary (Genetic-CNN) genome (the ``ga-unet`` sampler).

    Paper 000's genome is a channel code plus a binary connection code; a Genetic-CNN genome
    is a connection code only. Breeding runs :meth:`UNetStrategy.breed` unchanged on a proxy
    ``UNetSpace(depth=L+1, channels=(1,))`` whose channel genes have a single value: selection is
    the roulette ``f/Σf`` with elitism, crossover swaps one random piece of the bit string, and
    mutation (``qm=None``) flips one random piece (``qm`` set: per-bit flips, at least one).
    """

    name = "unet-binary"  # type: ignore[misc]

    def breed(self, parents: Sequence[Sequence[int]], fitnesses: Sequence[float], *,
              space: Space, rng: Any) -> list[Offspring]:
        if not isinstance(space, GeneticCNNSpace):
            raise NasgaInputError("strategy", f"{self.name!r} needs a GeneticCNNSpace, got {space!r}")
        pad = [0] * (space.n_bits + 1)
        proxy = UNetSpace(depth=space.n_bits + 1, channels=(1,))
        kids = super().breed([pad + list(p) for p in parents], fitnesses, space=proxy, rng=rng)
        return [Offspring(k.genes[len(pad):], k.operator, k.parents) for k in kids]


@dataclass(frozen=True)
class SamplerArgs:
    """The validated settings a sampler is built from.

    Attributes:
        space: The genome space.
        strategy: The study's strategy (``[strategy]``); the presets ``ga-unet`` and
            ``aging-*`` carry their own numbers and may get ``None``.
        seed: The sampler's seed.
        max_evaluations: Trainings per genome before the cache answers (``None``: every
            proposal trains): the study's ``strategy.max_evaluations`` or the comparison's.
        grace_period: Seconds after which the GA re-issues a dead worker's child (``None``: the
            storage's).
        feasible: The GA's check of a genome against the task's budget (``None``: all are).
        epochs: The epochs per training the task reports (``None``: none), for a baseline that
            schedules epochs itself (``dehb``).
    """

    space: Space
    strategy: Any
    seed: int
    max_evaluations: int | None
    grace_period: float | None = None
    feasible: Callable[[Any], bool] | None = None
    epochs: int | None = None

    def own_strategy(self) -> Any:
        """The strategy with its ``max_evaluations`` set to :attr:`max_evaluations`, so that its
        ``dedup`` rule (:meth:`~nasga.samplers.ga.strategies.GeneticCNNStrategy.rebreed_after`)
        reads the objective's cache."""
        if self.strategy.max_evaluations == self.max_evaluations:
            return self.strategy
        return self.strategy.with_overrides(max_evaluations=self.max_evaluations)

    @property
    def startup(self) -> int:
        """Random trials before a model-based Optuna sampler models: ``min(10, population)``."""
        return min(10, int(self.strategy.population))


@dataclass(frozen=True)
class SamplerEntry:
    """One named sampler.

    Attributes:
        family: ``"ga"`` (a :class:`~nasga.samplers.ga.sampler.GeneticSampler`: generations,
            tickets), ``"aging"`` (an :class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler`)
            or ``"optuna"`` (a built-in baseline).
        help: One line for the command-line help.
        build: The seeded sampler from :class:`SamplerArgs`.
        space: The space class it searches (``None``: any).
        compare_only: Why a study may not name it (empty: a study setting too).
        one_objective: Why it refuses a multi-objective study (empty: it takes several
            objectives).
        pruner: The pruner table a study with this sampler runs under when it names none (a
            multi-fidelity preset, :data:`RACE`; ``None``: the study's, by default none).
        own_pruner: Why it takes no pruner of the study's (non-empty: the sampler object's
            ``pruner`` attribute stops its trials, e.g. ``dehb``'s fidelities).
        check: Raises :class:`~nasga.errors.NasgaInputError` where it cannot be built here
            (a missing optional package); :func:`sampler_entry` calls it, before anything
            is written.
    """

    family: str
    help: str
    build: Callable[[SamplerArgs], optuna.samplers.BaseSampler]
    space: type | None = None
    compare_only: str = ""
    one_objective: str = ""
    pruner: Mapping[str, Any] | None = None
    own_pruner: str = ""
    check: Callable[[], Any] | None = None

    @property
    def is_ga(self) -> bool:
        return self.family == "ga"


def _ga(a: SamplerArgs) -> optuna.samplers.BaseSampler:
    from nasga.samplers.ga.sampler import GeneticSampler

    strategy = a.own_strategy()
    return GeneticSampler(space=a.space, strategy=strategy, seed=a.seed,
                          grace_period=a.grace_period, mode=strategy.mode,
                          rebreed_after=strategy.rebreed_after(a.max_evaluations),
                          feasible=a.feasible)


def _ga_variant(mode: str) -> Callable[[SamplerArgs], optuna.samplers.BaseSampler]:
    def build(a: SamplerArgs) -> optuna.samplers.BaseSampler:
        from nasga.samplers.ga.sampler import GeneticSampler

        return GeneticSampler(space=a.space, strategy=a.strategy, seed=a.seed,
                              grace_period=a.grace_period, mode=mode,
                              rebreed_after=a.max_evaluations, feasible=a.feasible)
    return build


def _ga_unet(a: SamplerArgs) -> optuna.samplers.BaseSampler:
    from nasga.samplers.ga.sampler import GeneticSampler

    binary = BinaryUNetStrategy()
    return GeneticSampler(space=a.space, strategy=binary, seed=a.seed,
                          grace_period=a.grace_period,
                          rebreed_after=binary.rebreed_after(a.max_evaluations),
                          feasible=a.feasible)


def _aging(a: SamplerArgs) -> optuna.samplers.BaseSampler:
    from nasga.samplers.aging.sampler import AgingEvolutionSampler

    population = int(a.strategy.population)
    return AgingEvolutionSampler(population=population, sample_size=max(1, population // 4),
                                 space=a.space, seed=a.seed,
                                 rebreed_after=a.own_strategy().rebreed_after(
                                     a.max_evaluations) or 1)


def _aging_preset(name: str) -> Callable[[SamplerArgs], optuna.samplers.BaseSampler]:
    def build(a: SamplerArgs) -> optuna.samplers.BaseSampler:
        from nasga.samplers.aging.sampler import AgingEvolutionSampler

        return AgingEvolutionSampler(space=a.space, seed=a.seed,
                                     rebreed_after=a.max_evaluations or 1, **AGING_PRESETS[name])
    return build


def _qmc(a: SamplerArgs) -> optuna.samplers.BaseSampler:
    # Scrambled: Optuna's default (scramble=False) gives every seed the same Sobol sequence,
    # so "50 seeds" would be one run repeated.
    return optuna.samplers.QMCSampler(seed=a.seed, scramble=True, warn_independent_sampling=False)


_DEDUP = "always re-breeding a genome the cache would answer"
SAMPLERS: dict[str, SamplerEntry] = {
    "ga": SamplerEntry("ga", "nasga's GeneticSampler with the study's [strategy] (mode, dedup)",
                       _ga),
    "ga-unet": SamplerEntry("ga", "the GA with paper 000's U-Net breeding (roulette, copy/"
                            "crossover/mutation, elitism; K = 32) on a Genetic-CNN space",
                            _ga_unet, GeneticCNNSpace,
                            compare_only="its generations are the U-Net preset's K = 32, not the "
                                         "study's [strategy] population"),
    "ga-dedup": SamplerEntry("ga", f"the GA, generational, {_DEDUP}",
                             _ga_variant(GA_VARIANTS["ga-dedup"])),
    "ga-steady": SamplerEntry("ga", f"the GA, steady-state, {_DEDUP}",
                              _ga_variant(GA_VARIANTS["ga-steady"])),
    "aging": SamplerEntry("aging", "aging evolution (Real et al. 2019), the strategy's "
                          "population, a tournament of a quarter of it", _aging),
    "aging-reeval": SamplerEntry("aging", "aging evolution P = 10, S = 5, re-measuring the "
                                 "tournament winner on half the cycles",
                                 _aging_preset("aging-reeval")),
    "aging-intensify": SamplerEntry("aging", "aging evolution P = 10, S = 5 with SMAC's "
                                    "intensification (the best on the benchmark tables)",
                                    _aging_preset("aging-intensify"),
                                    one_objective=INTENSIFY_ONE_OBJECTIVE),
    "aging-asha": SamplerEntry("aging", "aging-intensify under asynchronous successive "
                               "halving (Optuna's SuccessiveHalvingPruner, reduction factor 3; "
                               "the study's pruner if it names one), tournaments at the highest "
                               "common rung", _aging_preset("aging-asha"),
                               one_objective=INTENSIFY_ONE_OBJECTIVE, pruner=RACE),
    "ga-race": SamplerEntry("ga", "the GA with the study's [strategy], each generation's "
                            "children raced by asynchronous successive halving (as aging-asha)",
                            _ga, pruner=RACE),
    "random": SamplerEntry("optuna", "Optuna's RandomSampler",
                           lambda a: optuna.samplers.RandomSampler(seed=a.seed)),
    "tpe": SamplerEntry("optuna", "Optuna's TPESampler",
                        lambda a: optuna.samplers.TPESampler(seed=a.seed,
                                                             n_startup_trials=a.startup)),
    "gp": SamplerEntry("optuna", "Optuna's GPSampler",
                       lambda a: optuna.samplers.GPSampler(seed=a.seed,
                                                           n_startup_trials=a.startup)),
    "nsga2": SamplerEntry("optuna", "Optuna's NSGAIISampler (the strategy's population)",
                          lambda a: optuna.samplers.NSGAIISampler(
                              seed=a.seed, population_size=int(a.strategy.population))),
    "qmc": SamplerEntry("optuna", "Optuna's QMCSampler (scrambled Sobol)", _qmc),
    "cmaes": SamplerEntry("optuna", "Optuna's CmaEsSampler",
                          lambda a: optuna.samplers.CmaEsSampler(
                              seed=a.seed, n_startup_trials=a.startup,
                              warn_independent_sampling=False),
                          one_objective="is single-objective (Optuna's CmaEsSampler raises on "
                                        "several objectives)"),
}
"""Every sampler name, in the order the help texts list them; model-based Optuna samplers start
from ``min(10, population)`` random trials."""

def _dehb(a: SamplerArgs) -> optuna.samplers.BaseSampler:
    from nasga.samplers.baselines.dehb import DEHBSampler

    return DEHBSampler(space=a.space, epochs=a.epochs, seed=a.seed)


def _dehb_installed() -> None:
    from nasga.samplers.baselines.dehb import dehb_class

    dehb_class()


def _syne_tune(a: SamplerArgs) -> optuna.samplers.BaseSampler:
    from nasga.samplers.baselines.synetune import SyneTuneSampler

    return SyneTuneSampler(space=a.space, epochs=a.epochs, seed=a.seed)


def _syne_tune_installed() -> None:
    from nasga.samplers.baselines.synetune import syne_tune

    syne_tune()


_STOPS = "it stops each trial's training itself"
_ONE_PROCESS = "a baseline whose state lives in one process"
BASELINES: dict[str, SamplerEntry] = {
    "dehb": SamplerEntry("external", "DEHB (Awad et al. 2021; the optional dehb package): "
                         "differential evolution in Hyperband's brackets, min epoch 1, eta 3",
                         _dehb, compare_only=_ONE_PROCESS,
                         one_objective="is single-objective (DEHB minimises one fitness)",
                         own_pruner=_STOPS, check=_dehb_installed),
    "syne-tune-re-asha": SamplerEntry(
        "external", "Syne Tune's regularized evolution under its ASHA scheduler (the optional "
        "syne-tune package; its defaults: population 100, sample 10, eta 3, first rung epoch 1)",
        _syne_tune, compare_only=_ONE_PROCESS,
        one_objective="is single-objective (Syne Tune's ASHA takes one metric)",
        own_pruner=_STOPS, check=_syne_tune_installed),
}
"""Multi-fidelity baselines from other packages (:mod:`nasga.samplers.baselines`), for
comparisons only (``nasga compare``, ``scripts/bench_compare.py``), never a study's sampler
and never in :data:`SAMPLERS`: an optional package may be missing (the one-line error says
what to install)."""
BASELINE_NAMES = tuple(BASELINES)
_ENTRIES = {**SAMPLERS, **BASELINES}  # every name: the samplers, then the baselines

SAMPLER_NAMES = tuple(SAMPLERS)
"""Every sampler a comparison (``nasga compare --samplers``) may name."""
STUDY_SAMPLERS = tuple(n for n, e in SAMPLERS.items() if not e.compare_only)
"""Every sampler a study (``[study] sampler``, ``nasga run --sampler``) may name: all but
``ga-unet``."""
NASGA_SAMPLERS = tuple(n for n, e in SAMPLERS.items() if e.family != "optuna")
"""The samplers that are nasga's own (the rest are Optuna's built-ins)."""


def sampler_entry(name: str, *, space: Space | None = None, study: bool = False,
                  field: str = "sampler") -> SamplerEntry:
    """The entry of ``name``, checked to be a study setting (``study``) and to search ``space``
    (when given).

    Raises:
        NasgaInputError: ``field: must be one of ga, ..., got 'x'``, a compare-only name in a
            study, or a space the sampler does not search.
    """
    names = STUDY_SAMPLERS if study else SAMPLER_NAMES
    accepted = names if study else names + BASELINE_NAMES
    entry = _ENTRIES.get(name) if isinstance(name, str) else None
    if entry is None or name not in accepted:
        only = "".join(f"; {n} is nasga compare's only: {e.compare_only}"
                       for n, e in _ENTRIES.items() if n not in accepted)
        more = "" if study else f" (or a baseline from another package: {', '.join(BASELINE_NAMES)})"
        raise NasgaInputError(field, f"must be one of {', '.join(names)}{only}; got "
                              f"{name!r}{more}")
    if space is not None and entry.space is not None and not isinstance(space, entry.space):
        raise NasgaInputError(field, f"{name} needs a {entry.space.__name__} ({entry.help}), "
                              f"got {space!r}")
    if entry.check is not None:
        entry.check()
    return entry


def sampler_help(names: Sequence[str] = SAMPLER_NAMES) -> str:
    """``name: what it is`` for each of ``names``, for the command-line help."""
    return "; ".join(f"{name}: {_ENTRIES[name].help}" for name in names)


class _FromStrategy:
    def __repr__(self) -> str:
        return "the strategy's"


FROM_STRATEGY: Any = _FromStrategy()
"""The default ``max_evaluations`` of :func:`make_sampler`: the strategy's (a study's)."""


def make_sampler(name: str, *, space: Space, strategy: Any, seed: int,
                 max_evaluations: int | None = FROM_STRATEGY,
                 grace_period: float | None = None,
                 feasible: Callable[[Any], bool] | None = None,
                 epochs: int | None = None,
                 field: str = "sampler") -> optuna.samplers.BaseSampler:
    """The sampler called ``name`` (a key of :data:`SAMPLERS`), seeded, over ``space``.

    ``max_evaluations`` defaults to ``strategy.max_evaluations`` (a study); a comparison gives
    its own; ``epochs`` is the task's epochs per training where it reports them (a baseline of
    :data:`BASELINES` that schedules epochs needs it). Optuna's experimental warnings are
    silenced.

    Raises:
        NasgaInputError: An unknown name, or a space the sampler does not search (``field``).
    """
    entry = sampler_entry(name, space=space, field=field)
    if max_evaluations is FROM_STRATEGY:
        max_evaluations = strategy.max_evaluations
    args = SamplerArgs(space=space, strategy=strategy, seed=seed, max_evaluations=max_evaluations,
                       grace_period=grace_period, feasible=feasible, epochs=epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return entry.build(args)


__all__ = ["AGING_PRESETS", "BASELINES", "BASELINE_NAMES", "RACE", "FROM_STRATEGY", "GA_VARIANTS", "NASGA_SAMPLERS", "SAMPLERS",
           "SAMPLER_NAMES", "STUDY_SAMPLERS", "BinaryUNetStrategy", "SamplerArgs", "SamplerEntry", "make_sampler",
           "sampler_entry", "sampler_help"]
