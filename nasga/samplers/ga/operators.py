"""DEAP-style genetic operators for the two search spaces, and toolbox construction.

An *individual* is a plain ``list[int]``: the space's flat gene vector
(:meth:`~nasga.spaces.GeneticCNNSpace.to_vector` /
:meth:`~nasga.spaces.UNetSpace.to_vector`). Conventions, as in DEAP:

* **Selection** returns a ``list[int]`` of *indices* into the fitness sequence, drawn with
  replacement, so multiplicity is kept and callers can record parentage.
* **Crossover** and **mutation** modify their individuals in place and return them as a tuple
  (``(ind1, ind2)`` / ``(ind,)``).
* Every random decision uses the explicit ``rng: random.Random`` keyword argument: never the
  global :mod:`random` module, never DEAP's ``creator`` globals. A seeded ``rng`` reproduces a run.

Papers: 004 = Genetic CNN (Xie & Yuille 2017); 000 = U-Net generator search by GA.
"""

from __future__ import annotations

import math
import random
from collections.abc import MutableSequence, Sequence
from typing import TYPE_CHECKING, Any

from deap import base

from nasga.errors import NasgaInputError, is_int

if TYPE_CHECKING:  # pragma: no cover
    from nasga.spaces.base import Space

Individual = MutableSequence[int]
Bounds = tuple[int, int]

__all__ = [
    "build_toolbox",
    "cx_segment",
    "cx_stagewise",
    "mut_channel_set",
    "mut_flip_bit",
    "sel_best",
    "sel_roulette",
    "sel_roulette_offset",
]


# --- selection ---------------------------------------------------------------------------------
def _check_fitnesses(fitnesses: Sequence[float], k: int) -> list[float]:
    values = [float(f) for f in fitnesses]
    if not values:
        raise ValueError("fitnesses: need at least one individual to select from, got none")
    for i, f in enumerate(values):
        if not math.isfinite(f):
            raise ValueError(f"fitnesses: fitness {i} must be finite, got {f!r}")
    if not is_int(k) or k < 0:
        raise ValueError(f"k: must be an integer >= 0, got {k!r}")
    return values


def _weighted_draws(weights: list[float], k: int, rng: random.Random) -> list[int]:
    """``k`` indices drawn with replacement ∝ ``weights``; uniform when all weights are zero."""
    n = len(weights)
    if sum(weights) <= 0.0:
        return [rng.randrange(n) for _ in range(k)]
    return rng.choices(range(n), weights=weights, k=k)


def sel_roulette_offset(fitnesses: Sequence[float], k: int, *, rng: random.Random) -> list[int]:
    """Russian roulette with probability ∝ ``f − f_min`` (paper 004, §3.2.2).

    "The probability of sampling M_{t−1,n} is proportional to r_{t−1,n} − r_{t−1,0}, where
    r_{t−1,0} is the minimal fitness": the best individual is the likeliest survivor and the
    worst (every individual tied for the minimum) is never chosen. When all fitnesses are equal
    no individual is better than another and the draw is uniform. DEAP's ``selRoulette`` has
    no offset, hence this operator.

    Args:
        fitnesses: Fitness of each individual (higher is better; any finite sign).
        k: Number of draws, with replacement (paper: ``N``, "may be selected multiple times").
        rng: Source of randomness.

    Returns:
        ``k`` indices into ``fitnesses``, repeated indices kept.

    Raises:
        ValueError: Empty or non-finite fitnesses, or a bad ``k``.
    """
    values = _check_fitnesses(fitnesses, k)
    f_min = min(values)
    return _weighted_draws([f - f_min for f in values], k, rng)


def sel_roulette(fitnesses: Sequence[float], k: int, *, rng: random.Random) -> list[int]:
    """Roulette wheel with ``Pr(b_j) = f(b_j) / Σ_k f(b_k)`` (paper 000, §2.2, eq. 4).

    Args:
        fitnesses: Fitness of each individual; must be ``>= 0`` (paper 000, eq. 7 is a
            positive reciprocal). All zero → uniform.
        k: Number of draws, with replacement.
        rng: Source of randomness.

    Returns:
        ``k`` indices into ``fitnesses``, repeated indices kept.

    Raises:
        ValueError: A negative or non-finite fitness (the message names index and value),
            empty fitnesses, or a bad ``k``.
    """
    values = _check_fitnesses(fitnesses, k)
    for i, f in enumerate(values):
        if f < 0.0:
            raise ValueError(
                f"fitnesses: roulette selection (paper 000 eq. 4) needs fitness >= 0, "
                f"got {f!r} at index {i}"
            )
    return _weighted_draws(values, k, rng)


def sel_best(fitnesses: Sequence[float], k: int) -> list[int]:
    """The ``k`` fittest individuals, best first: elitism (paper 000, Alg. 1 line 8).

    "Preserve the best individual in P_{t−1} into P_t". Deterministic: ties are broken by
    the lowest index.

    Args:
        fitnesses: Fitness of each individual (higher is better).
        k: How many to keep, ``0 <= k <= len(fitnesses)``.

    Returns:
        ``k`` distinct indices into ``fitnesses``, fittest first.

    Raises:
        ValueError: Non-finite fitness, or ``k`` out of range.
    """
    values = _check_fitnesses(fitnesses, k)
    if k > len(values):
        raise ValueError(f"k: cannot keep {k} elites out of {len(values)} individuals")
    return sorted(range(len(values)), key=lambda i: (-values[i], i))[:k]


# --- crossover ---------------------------------------------------------------------------------
def _check_pair(ind1: Individual, ind2: Individual) -> None:
    if len(ind1) != len(ind2):
        raise ValueError(f"crossover needs equal-length parents, got {len(ind1)} and {len(ind2)}")


def _check_bounds(bounds: Bounds, size: int, what: str) -> tuple[int, int]:
    start, stop = bounds
    if not 0 <= start <= stop <= size:
        raise ValueError(f"{what}: ({start}, {stop}) is not inside a vector of length {size}")
    return start, stop


def cx_stagewise(
    ind1: Individual,
    ind2: Individual,
    *,
    bounds: Sequence[Bounds],
    qc: float,
    rng: random.Random,
) -> tuple[Individual, Individual]:
    """Exchange whole stages, each pair independently with probability ``qc`` (paper 004, §3.2.3).

    "The basic unit in crossover is a stage ... each pair of corresponding stages are exchanged
    with a small probability q_C." A stage is never split, so the local structure within each
    stage is retained. No exchange is forced: with probability ``(1 − qc)^S`` both children are
    unchanged, as in the paper.

    Args:
        ind1: First parent, modified in place.
        ind2: Second parent, modified in place.
        bounds: ``(start, stop)`` of each stage (``GeneticCNNSpace.stage_bounds``).
        qc: Per-stage exchange probability ``q_C``.
        rng: Source of randomness.

    Returns:
        ``(ind1, ind2)``.
    """
    _check_pair(ind1, ind2)
    for b in bounds:
        start, stop = _check_bounds(b, len(ind1), "bounds")
        if rng.random() < qc:
            ind1[start:stop], ind2[start:stop] = ind2[start:stop], ind1[start:stop]
    return ind1, ind2


def _random_piece(start: int, stop: int, rng: random.Random) -> tuple[int, int]:
    """A non-empty contiguous piece ``[i, j)`` of ``[start, stop)``: two distinct cut points."""
    i, j = sorted(rng.sample(range(start, stop + 1), 2))
    return i, j


def cx_segment(
    ind1: Individual,
    ind2: Individual,
    *,
    parts: Sequence[Bounds],
    rng: random.Random,
) -> tuple[Individual, Individual]:
    """Swap a random contiguous piece inside each part (paper 000, §2.2 and §3.4).

    "Random piece of parents will be swapped to generate two new offsprings", with the GA
    applied "separately for channel number code c1 and connection code c2": in every part
    (the channel code and the skip code) a two-point crossover swaps the genes between two
    distinct cut points chosen uniformly in ``start..stop``. The piece is non-empty and never
    crosses a part boundary; genes outside all parts are untouched.

    Args:
        ind1: First parent, modified in place.
        ind2: Second parent, modified in place.
        parts: ``(start, stop)`` per part, e.g. ``[space.channel_bounds, space.skip_bounds]``.
        rng: Source of randomness.

    Returns:
        ``(ind1, ind2)``.
    """
    _check_pair(ind1, ind2)
    for b in parts:
        start, stop = _check_bounds(b, len(ind1), "parts")
        if stop - start < 1:
            continue
        i, j = _random_piece(start, stop, rng)
        ind1[i:j], ind2[i:j] = ind2[i:j], ind1[i:j]
    return ind1, ind2


# --- mutation ----------------------------------------------------------------------------------
def mut_flip_bit(
    ind: Individual,
    *,
    qm: float,
    rng: random.Random,
    bounds: Bounds | None = None,
) -> tuple[Individual]:
    """Flip each bit independently with probability ``qm`` (paper 004, §3.2.3).

    "The mutation process of an individual involves flipping each bit independently with a
    probability q_M" (0.05 in the paper). No flip is forced, as in the paper.

    Args:
        ind: Individual of 0/1 genes, modified in place.
        qm: Per-bit flip probability ``q_M``.
        rng: Source of randomness.
        bounds: Optional ``(start, stop)``: only bits in this range may flip.

    Returns:
        ``(ind,)``.
    """
    start, stop = (
        _check_bounds(bounds, len(ind), "bounds") if bounds is not None else (0, len(ind))
    )
    for i in range(start, stop):
        if rng.random() < qm:
            ind[i] = 1 - ind[i]
    return (ind,)


def _mutate_gene(
    ind: Individual, i: int, channel: bool, n_choices: int, rng: random.Random
) -> None:
    """Channel gene: another index of ``S1`` (never the current one); skip bit: flip."""
    if channel:
        others = [c for c in range(n_choices) if c != ind[i]]
        ind[i] = rng.choice(others)
    else:
        ind[i] = 1 - ind[i]


def mut_channel_set(
    ind: Individual,
    *,
    channel_bounds: Bounds,
    n_choices: int,
    skip_bounds: Bounds,
    qm: float | None,
    rng: random.Random,
    at_least_one: bool = True,
) -> tuple[Individual]:
    """U-Net mutation: channel genes move to another value of ``S1``, skip bits flip (paper 000, §3.4).

    "For an element corresponding to a channel number to be mutated, we remove the past channel
    number from set S1 and randomly select one from the remaining numbers"; the binary skip code
    uses the usual flip (XOR). Which genes mutate:

    * ``qm`` a probability: each gene mutates independently with probability ``qm``. Paper 000
      §2.2 says mutation changes the parent "to produce an offspring", so with ``at_least_one``
      (default) a draw that mutated nothing mutates one uniformly chosen eligible gene instead:
      the child always differs from its parent.
    * ``qm is None``: the paper's literal "randomly changes a random piece" (§2.2), applied
      separately to the channel code and the skip code as the paper runs its GA separately on
      c1 and c2 (§3.4): in each part a non-empty contiguous piece (two distinct uniform cut
      points) is mutated gene by gene. The child always differs from its parent.

    With ``n_choices < 2`` channel genes have no other value and are left alone.

    Args:
        ind: Individual (channel choice indices, then skip bits), modified in place.
        channel_bounds: ``(start, stop)`` of the channel code (``UNetSpace.channel_bounds``).
        n_choices: ``|S1|``; channel genes are indices in ``range(n_choices)``.
        skip_bounds: ``(start, stop)`` of the skip code (``UNetSpace.skip_bounds``).
        qm: Per-gene mutation probability, or ``None`` for one random piece per part.
        rng: Source of randomness.
        at_least_one: With a probability ``qm``, force one change if none happened.

    Returns:
        ``(ind,)``.
    """
    c_start, c_stop = _check_bounds(channel_bounds, len(ind), "channel_bounds")
    s_start, s_stop = _check_bounds(skip_bounds, len(ind), "skip_bounds")
    for i in range(c_start, c_stop):
        if not 0 <= ind[i] < n_choices:
            raise ValueError(f"channel gene {i} must index 0..{n_choices - 1}, got {ind[i]}")
    parts: list[tuple[int, int, bool]] = [(s_start, s_stop, False)]
    if n_choices >= 2:
        parts.insert(0, (c_start, c_stop, True))
    if qm is None:
        _mutate_pieces(ind, parts, n_choices, rng)
    else:
        _mutate_per_gene(ind, parts, n_choices, qm, rng, at_least_one=at_least_one)
    return (ind,)


_Parts = list[tuple[int, int, bool]]  # (start, stop, is a channel code) of each code


def _mutate_pieces(ind: Individual, parts: _Parts, n_choices: int, rng: random.Random) -> None:
    """Paper 000 §2.2's literal rule: one random non-empty piece of each code, gene by gene."""
    for start, stop, channel in parts:
        if stop - start < 1:
            continue
        i, j = _random_piece(start, stop, rng)
        for g in range(i, j):
            _mutate_gene(ind, g, channel, n_choices, rng)


def _mutate_per_gene(ind: Individual, parts: _Parts, n_choices: int, qm: float,
                     rng: random.Random, *, at_least_one: bool) -> None:
    """Each gene with probability ``qm``; with ``at_least_one``, one eligible gene if none did."""
    changed = False
    for start, stop, channel in parts:
        for g in range(start, stop):
            if rng.random() < qm:
                _mutate_gene(ind, g, channel, n_choices, rng)
                changed = True
    eligible = [(g, channel) for start, stop, channel in parts for g in range(start, stop)]
    if at_least_one and not changed and eligible:
        g, channel = rng.choice(eligible)
        _mutate_gene(ind, g, channel, n_choices, rng)


# --- toolbox -----------------------------------------------------------------------------------
def build_toolbox(space: Space, strategy: Any, *, rng: random.Random) -> base.Toolbox:
    """A ``deap.base.Toolbox`` with the operators of ``strategy`` bound to ``space``'s layout.

    Each strategy binds its own paper's operators (``strategy.toolbox(space, rng=rng)``):

    * ``GeneticCNNStrategy`` on a ``GeneticCNNSpace`` (paper 004): ``select`` =
      :func:`sel_roulette_offset`, ``mate`` = :func:`cx_stagewise` (``bounds`` = stage bounds,
      ``qc``), ``mutate`` = :func:`mut_flip_bit` (``qm``).
    * ``UNetStrategy`` on a ``UNetSpace`` (paper 000): ``select`` = :func:`sel_roulette`,
      ``elite`` = :func:`sel_best`, ``mate`` = :func:`cx_segment` (channel and skip parts),
      ``mutate`` = :func:`mut_channel_set` (``qm``).

    All random operators share ``rng``. Call as ``toolbox.select(fitnesses, k)``,
    ``toolbox.mate(a, b)``, ``toolbox.mutate(a)``.

    Raises:
        NasgaInputError: The strategy does not fit the space, or binds no operators.
    """
    bind = getattr(strategy, "toolbox", None)
    if bind is None:
        name = getattr(strategy, "name", type(strategy).__name__)
        raise NasgaInputError("strategy", f"strategy {name!r} binds no operators (no toolbox())")
    return bind(space, rng=rng)


def mismatch(strategy: Any, space: Any) -> NasgaInputError:
    """The error for a strategy used on the other paper's space."""
    name = getattr(strategy, "name", type(strategy).__name__)
    return NasgaInputError(
        "strategy",
        f"strategy {name!r} does not fit the space {space!r} "
        "(use 'genetic-cnn' with GeneticCNNSpace, 'unet' with UNetSpace)",
    )
