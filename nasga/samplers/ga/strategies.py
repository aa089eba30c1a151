"""Strategy presets: each paper's GA numbers and its breeding flowchart.

A strategy (:class:`GeneticCNNStrategy`, :class:`UNetStrategy`) is a frozen dataclass; every
number can be overridden with its ``with_overrides`` (or :func:`dataclasses.replace`), and is
validated on construction, raising :class:`~nasga.errors.NasgaInputError` that names the
field, the rule and the value. Its ``breed`` turns one evaluated generation into the next
one's genomes, using the operators its ``toolbox`` binds to the space
(:func:`nasga.samplers.ga.operators.build_toolbox`).

Papers: 004 = Genetic CNN (Xie & Yuille 2017); 000 = U-Net generator search by GA.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from nasga.samplers.ga import operators as ops
from nasga.errors import NasgaInputError, check_int, check_probability

if TYPE_CHECKING:  # pragma: no cover
    from nasga.spaces import Space

MODES = ("generational", "steady-state")

__all__ = [
    "MODES",
    "PRESETS",
    "GeneticCNNStrategy",
    "Offspring",
    "Strategy",
    "UNetStrategy",
    "get_strategy",
]


@dataclass
class Offspring:
    """One child of the next generation.

    Attributes:
        genes: The child's flat gene vector (a fresh list; parents are never aliased).
        operator: How it was made: ``"copy"``, ``"crossover"``, ``"mutation"`` or ``"elite"``.
        parents: Indices into the parent list passed to ``breed``. For a crossover child the
            parent whose genes it keeps outside the swapped pieces comes first.
    """

    genes: list[int]
    operator: str
    parents: tuple[int, ...]


# --- validation helpers ------------------------------------------------------------------------
class _StrategyBase:
    """Shared validation, overrides and breeding-input checks."""

    name: ClassVar[str]
    #: The selection needs fitness >= 0 (paper 000's roulette ``f/Σf``, eq. 4): breeding shifts
    #: negative values by the minimum first (:func:`nasga.samplers.ga.breeding.selection_values`).
    nonnegative_selection: ClassVar[bool] = False
    mode: str
    dedup: bool | None
    population: int
    generations: int
    max_evaluations: int | None
    _PROBABILITIES: ClassVar[tuple[str, ...]] = ()
    _OPTIONAL: ClassVar[tuple[str, ...]] = ()

    def _validate_common(self) -> None:
        if self.mode not in MODES:
            raise NasgaInputError("mode", f"must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.dedup is not None and not isinstance(self.dedup, bool):
            raise NasgaInputError("dedup", f"must be true or false, got {self.dedup!r}")
        check_int("population", self.population, minimum=2)
        check_int("generations", self.generations, minimum=0)
        if self.max_evaluations is not None:
            check_int("max_evaluations", self.max_evaluations)
        elif self.dedup:
            raise NasgaInputError("dedup", "needs max_evaluations >= 1 (with 0, every "
                                  "reappearance is trained on purpose), got dedup = true")
        for f in self._PROBABILITIES:
            value = getattr(self, f)
            if value is None and f in self._OPTIONAL:
                continue
            object.__setattr__(self, f, check_probability(f, value))

    def rebreed_after(self, max_evaluations: int | None) -> int | None:
        """Measurements after which a bred genome is re-bred, not proposed (``None``: never).

        ``dedup`` unset (the default) means on whenever the objective caches
        (``max_evaluations`` set), so no trial is spent on a genome the cache would answer
        (issue 16); ``dedup = false`` proposes such genomes as the papers' flowcharts do.
        """
        return max_evaluations if self.dedup is not False else None

    def with_overrides(self, **overrides: Any) -> Any:
        """A copy with some numbers changed, validated (unknown names are rejected).

        Raises:
            NasgaInputError: An unknown field, or a value that breaks a rule.
        """
        known = [f.name for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        for key in overrides:
            if key not in known:
                raise NasgaInputError(
                    key, f"unknown setting for strategy {self.name!r}; known: {', '.join(known)}"
                )
        return dataclasses.replace(self, **overrides)  # type: ignore[type-var]

    @staticmethod
    def _check_breed_inputs(
        parents: Sequence[Sequence[int]], fitnesses: Sequence[float], space: Space
    ) -> list[float]:
        if len(parents) != len(fitnesses):
            raise NasgaInputError(
                "fitnesses", f"need one fitness per parent: {len(parents)} parents, "
                f"{len(fitnesses)} fitnesses"
            )
        if not parents:
            raise NasgaInputError("parents", "need at least one parent to breed from, got none")
        for p in parents:
            space.genome(p)  # raises NasgaInputError for a vector that is not of this space
        values = [float(f) for f in fitnesses]
        for i, f in enumerate(values):
            if not math.isfinite(f):
                raise NasgaInputError("fitnesses", f"fitness {i} must be finite, got {f!r}")
        return values


@dataclass(frozen=True)
class GeneticCNNStrategy(_StrategyBase):
    """Genetic CNN's GA (paper 004, §3.2 and §4.1.1).

    Attributes:
        population: ``N`` individuals per generation (paper: 20).
        generations: ``T`` generations (paper: 50).
        pc: ``p_C``, probability that a pair is crossed over (paper: 0.2).
        qc: ``q_C``, per-stage exchange probability inside a crossover (paper: 0.2).
        pm: ``p_M``, probability that a non-crossed individual is mutated (paper: 0.8).
        qm: ``q_M``, per-bit flip probability inside a mutation (paper: 0.05).
        max_evaluations: Trainings per genome; ``None`` = train again at every reappearance and
            average (paper 004 §3.2.4).
        mode: ``"generational"`` (the paper's Algorithm 1) or ``"steady-state"`` (one child per
            new trial, no generation barrier; see :class:`~nasga.samplers.ga.sampler.GeneticSampler`).
        dedup: Re-breed a child whose genome the cache would answer (it already has
            ``max_evaluations`` trainings) instead of proposing it; needs ``max_evaluations``.
            ``None`` (default): on whenever ``max_evaluations`` is set
            (:meth:`rebreed_after`); ``False``: propose it, as the paper's flowchart does.
    """

    name: ClassVar[str] = "genetic-cnn"
    _PROBABILITIES: ClassVar[tuple[str, ...]] = ("pc", "qc", "pm", "qm")

    population: int = 20
    generations: int = 50
    pc: float = 0.2
    qc: float = 0.2
    pm: float = 0.8
    qm: float = 0.05
    max_evaluations: int | None = None
    mode: str = "generational"
    dedup: bool | None = None

    def __post_init__(self) -> None:
        self._validate_common()

    def toolbox(self, space: Space, *, rng: random.Random) -> Any:
        """Paper 004's operators bound to ``space``: roulette with the min-fitness offset,
        stage-wise crossover (``qc``), bit flips (``qm``); see
        :func:`nasga.samplers.ga.operators.build_toolbox`.

        Raises:
            NasgaInputError: ``space`` is not a ``GeneticCNNSpace``.
        """
        from deap import base

        from nasga.spaces import GeneticCNNSpace

        if not isinstance(space, GeneticCNNSpace):
            raise ops.mismatch(self, space)
        tb = base.Toolbox()
        tb.register("select", ops.sel_roulette_offset, rng=rng)
        tb.register("mate", ops.cx_stagewise, bounds=list(space.stage_bounds), qc=self.qc, rng=rng)
        tb.register("mutate", ops.mut_flip_bit, qm=self.qm, rng=rng)
        return tb

    def breed(
        self,
        parents: Sequence[Sequence[int]],
        fitnesses: Sequence[float],
        *,
        space: Space,
        rng: random.Random,
    ) -> list[Offspring]:
        """Next generation by paper 004, Algorithm 1 (lines 4–6).

        1. Selection: ``N`` independent roulette draws ∝ ``f − f_min`` (§3.2.2), with
           replacement and multiplicity kept; each survivor starts as a ``"copy"``.
        2. Crossover: each consecutive pair ``(2n, 2n+1)`` is crossed with probability ``p_C``
           by :func:`~nasga.samplers.ga.operators.cx_stagewise` (``q_C``); both become ``"crossover"``.
        3. Mutation: each non-crossed individual is mutated with probability ``p_M`` by
           :func:`~nasga.samplers.ga.operators.mut_flip_bit` (``q_M``) and becomes ``"mutation"``.

        Labels name the operator applied, not whether genes changed: as in the paper, a
        crossover may exchange no stage and a mutation may flip no bit.

        Args:
            parents: Gene vectors of the evaluated generation (any number ``>= 1``).
            fitnesses: Their fitness (recognition rate; higher is better).
            space: A ``GeneticCNNSpace``.
            rng: Source of randomness (also bound into the toolbox).

        Returns:
            Exactly ``population`` offspring.
        """
        values = self._check_breed_inputs(parents, fitnesses, space)
        tb = self.toolbox(space, rng=rng)
        chosen: list[int] = tb.select(values, self.population)
        children = [Offspring(list(parents[i]), "copy", (i,)) for i in chosen]
        crossed = [False] * len(children)
        for n in range(len(children) // 2):
            a, b = children[2 * n], children[2 * n + 1]
            if rng.random() < self.pc:
                tb.mate(a.genes, b.genes)
                pa, pb = a.parents[0], b.parents[0]
                a.operator, a.parents = "crossover", (pa, pb)
                b.operator, b.parents = "crossover", (pb, pa)
                crossed[2 * n] = crossed[2 * n + 1] = True
        for child, was_crossed in zip(children, crossed):
            if not was_crossed and rng.random() < self.pm:
                tb.mutate(child.genes)
                child.operator = "mutation"
        return children


@dataclass(frozen=True)
class UNetStrategy(_StrategyBase):
    """The U-Net generator search's GA (paper 000, §2.2, §3.4, Algorithm 1, §4).

    Attributes:
        population: ``K`` individuals per generation (paper: 32).
        generations: ``T`` generations (paper: 100).
        s1: Probability that a slot is a copy of one roulette-selected parent (paper: 0.2).
        s2: Probability of crossover of two roulette-selected parents (paper: 0.7).
        s3: Probability of mutation of one roulette-selected parent (paper: 0.1).
            ``s1 + s2 + s3`` must be 1.
        elitism: Best parents carried over unchanged (Alg. 1 line 8: 1).
        qm: Per-gene mutation probability, or ``None`` (default) for the paper's literal rule,
            "mutation randomly changes a random piece" (§2.2): one random contiguous piece of
            the channel code and one of the skip code. The paper gives no per-gene rate, so the
            default keeps its wording; set e.g. ``qm=1/15`` (one gene of the paper's 15 on
            average, at least one always) for gentler mutation.
        max_evaluations: Trainings per genome; 1 = train once, reuse the stored fitness.
        mode: ``"generational"`` (the paper's Algorithm 1) or ``"steady-state"`` (one child per
            new trial, no generation barrier; see :class:`~nasga.samplers.ga.sampler.GeneticSampler`).
        dedup: Re-breed a child whose genome the cache would answer (it already has
            ``max_evaluations`` trainings) instead of proposing it; needs ``max_evaluations``.
            ``None`` (default): on whenever ``max_evaluations`` is set
            (:meth:`rebreed_after`); ``False``: propose it, as the paper's flowchart does.
    """

    name: ClassVar[str] = "unet"
    nonnegative_selection: ClassVar[bool] = True  # sel_roulette: f / Σf, paper 000 eq. 4
    _PROBABILITIES: ClassVar[tuple[str, ...]] = ("s1", "s2", "s3", "qm")
    _OPTIONAL: ClassVar[tuple[str, ...]] = ("qm",)

    population: int = 32
    generations: int = 100
    s1: float = 0.2
    s2: float = 0.7
    s3: float = 0.1
    elitism: int = 1
    qm: float | None = None
    max_evaluations: int | None = 1
    mode: str = "generational"
    dedup: bool | None = None

    def __post_init__(self) -> None:
        self._validate_common()
        total = self.s1 + self.s2 + self.s3
        if abs(total - 1.0) > 1e-9:
            raise NasgaInputError(
                "s1+s2+s3",
                f"must sum to 1 (within 1e-9), got {self.s1!r} + {self.s2!r} + {self.s3!r} "
                f"= {total!r}",
            )
        check_int("elitism", self.elitism, minimum=0)
        if self.elitism > self.population:
            raise NasgaInputError(
                "elitism", f"must be <= population ({self.population}), got {self.elitism!r}"
            )

    def toolbox(self, space: Space, *, rng: random.Random) -> Any:
        """Paper 000's operators bound to ``space``: roulette ``f/Σf``, elites, one-segment
        crossover of the channel and skip parts, channel-set mutation (``qm``); see
        :func:`nasga.samplers.ga.operators.build_toolbox`.

        Raises:
            NasgaInputError: ``space`` is not a ``UNetSpace``.
        """
        from deap import base

        from nasga.spaces import UNetSpace

        if not isinstance(space, UNetSpace):
            raise ops.mismatch(self, space)
        tb = base.Toolbox()
        tb.register("select", ops.sel_roulette, rng=rng)
        tb.register("elite", ops.sel_best)
        tb.register("mate", ops.cx_segment, parts=[space.channel_bounds, space.skip_bounds], rng=rng)
        tb.register("mutate", ops.mut_channel_set, channel_bounds=space.channel_bounds,
                    n_choices=len(space.choices), skip_bounds=space.skip_bounds, qm=self.qm,
                    rng=rng)
        return tb

    def breed(
        self,
        parents: Sequence[Sequence[int]],
        fitnesses: Sequence[float],
        *,
        space: Space,
        rng: random.Random,
    ) -> list[Offspring]:
        """Next generation by paper 000, Algorithm 1 (lines 7–11).

        Slots ``0..elitism-1`` hold the best parents (``"elite"``, ties → lowest index). Each
        remaining slot draws ``s ~ U[0, 1)``: ``s < s1`` copies one parent selected by eq. 4
        (``"copy"``); ``s < s1 + s2`` crosses two independently selected parents with
        :func:`~nasga.samplers.ga.operators.cx_segment` and fills this slot and, if room remains, the next
        with the two children (``"crossover"``; an extra child at the end is dropped); otherwise
        one selected parent is mutated with :func:`~nasga.samplers.ga.operators.mut_channel_set`
        (``"mutation"``).

        Args:
            parents: Gene vectors of the evaluated generation (any number ``>= 1``).
            fitnesses: Their fitness, ``>= 0`` (paper 000 eq. 7; eq. 4 needs it).
            space: A ``UNetSpace``.
            rng: Source of randomness (also bound into the toolbox).

        Returns:
            Exactly ``population`` offspring.

        Raises:
            ValueError: A negative fitness (from :func:`~nasga.samplers.ga.operators.sel_roulette`).
        """
        values = self._check_breed_inputs(parents, fitnesses, space)
        tb = self.toolbox(space, rng=rng)
        n_elite = min(self.elitism, len(parents))
        children = [Offspring(list(parents[i]), "elite", (i,)) for i in tb.elite(values, n_elite)]
        while len(children) < self.population:
            s = rng.random()
            if s < self.s1:
                (i,) = tb.select(values, 1)
                children.append(Offspring(list(parents[i]), "copy", (i,)))
            elif s < self.s1 + self.s2:
                i, j = tb.select(values, 2)
                a, b = list(parents[i]), list(parents[j])
                tb.mate(a, b)
                children.append(Offspring(a, "crossover", (i, j)))
                if len(children) < self.population:
                    children.append(Offspring(b, "crossover", (j, i)))
            else:
                (i,) = tb.select(values, 1)
                child = list(parents[i])
                tb.mutate(child)
                children.append(Offspring(child, "mutation", (i,)))
        return children


Strategy = GeneticCNNStrategy | UNetStrategy

PRESETS: dict[str, Strategy] = {
    GeneticCNNStrategy.name: GeneticCNNStrategy(),
    UNetStrategy.name: UNetStrategy(),
}


def get_strategy(name: str, **overrides: Any) -> Strategy:
    """The preset called ``name`` with ``overrides`` applied and validated.

    Raises:
        NasgaInputError: Unknown name, unknown field or invalid value.
    """
    if name not in PRESETS:
        raise NasgaInputError(
            "strategy", f"unknown strategy {name!r}; choose from {', '.join(sorted(PRESETS))}"
        )
    return PRESETS[name].with_overrides(**overrides)
