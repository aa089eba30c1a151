"""Tests for nasga.samplers.ga.operators: selection, crossover, mutation, toolbox (all seeded)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from nasga.samplers.ga.operators import (
    build_toolbox,
    cx_segment,
    cx_stagewise,
    mut_channel_set,
    mut_flip_bit,
    sel_best,
    sel_roulette,
    sel_roulette_offset,
)
from nasga.spaces import GeneticCNNSpace, NasgaInputError, UNetSpace
from nasga.samplers.ga.strategies import GeneticCNNStrategy, UNetStrategy

DRAWS = 200_000
TOL = 0.01  # absolute tolerance on a frequency; sampling s.d. is <= 0.0012 at 200k draws


def _freqs(indices: list[int], n: int) -> list[float]:
    counts = Counter(indices)
    return [counts[i] / len(indices) for i in range(n)]


# --- selection ---------------------------------------------------------------------------------
def test_sel_roulette_offset_frequencies_and_worst_never_chosen() -> None:
    fit = [0.50, 0.90, 0.30, 0.70, 0.80]
    idx = sel_roulette_offset(fit, DRAWS, rng=random.Random(1))
    assert len(idx) == DRAWS
    freqs = _freqs(idx, len(fit))
    assert freqs[2] == 0.0  # the worst (0.30) always dies, paper 004 §3.2.2
    weights = [f - min(fit) for f in fit]
    for got, w in zip(freqs, weights):
        assert got == pytest.approx(w / sum(weights), abs=TOL)


def test_sel_roulette_offset_ties_at_minimum_and_negative_fitness() -> None:
    fit = [-2.0, -1.0, -2.0, 0.0]
    idx = sel_roulette_offset(fit, 50_000, rng=random.Random(2))
    assert set(idx) == {1, 3}
    assert _freqs(idx, 4)[3] == pytest.approx(2 / 3, abs=TOL)


def test_sel_roulette_offset_all_equal_is_uniform() -> None:
    idx = sel_roulette_offset([0.4] * 4, DRAWS, rng=random.Random(3))
    for got in _freqs(idx, 4):
        assert got == pytest.approx(0.25, abs=TOL)


def test_selection_keeps_multiplicity_and_k() -> None:
    assert sel_roulette_offset([0.1, 0.2], 0, rng=random.Random(0)) == []
    assert sel_roulette_offset([0.1, 0.2], 5, rng=random.Random(0)) == [1] * 5
    assert len(sel_roulette([1.0, 2.0, 3.0], 7, rng=random.Random(0))) == 7


def test_sel_roulette_frequencies_proportional_to_fitness() -> None:
    fit = [1.0, 3.0, 0.0, 6.0]
    freqs = _freqs(sel_roulette(fit, DRAWS, rng=random.Random(4)), len(fit))
    assert freqs[2] == 0.0
    for got, f in zip(freqs, fit):
        assert got == pytest.approx(f / sum(fit), abs=TOL)


def test_sel_roulette_all_zero_is_uniform() -> None:
    for got in _freqs(sel_roulette([0.0] * 5, DRAWS, rng=random.Random(5)), 5):
        assert got == pytest.approx(0.2, abs=TOL)


def test_sel_roulette_rejects_negative_and_non_finite() -> None:
    with pytest.raises(ValueError, match=r"-0\.5"):
        sel_roulette([1.0, -0.5], 1, rng=random.Random(0))
    with pytest.raises(ValueError, match="finite"):
        sel_roulette([1.0, float("nan")], 1, rng=random.Random(0))
    with pytest.raises(ValueError, match="finite"):
        sel_roulette_offset([float("inf"), 1.0], 1, rng=random.Random(0))
    with pytest.raises(ValueError, match="none"):
        sel_roulette_offset([], 1, rng=random.Random(0))


def test_sel_best_order_and_ties() -> None:
    assert sel_best([0.3, 0.9, 0.9, 0.1], 1) == [1]
    assert sel_best([0.3, 0.9, 0.9, 0.1], 3) == [1, 2, 0]
    assert sel_best([5.0], 0) == []
    with pytest.raises(ValueError, match="elites"):
        sel_best([1.0, 2.0], 3)


# --- crossover ---------------------------------------------------------------------------------
def test_cx_stagewise_never_splits_a_stage() -> None:
    space = GeneticCNNSpace((3, 4, 5))
    bounds = space.stage_bounds
    rng = random.Random(6)
    swaps = Counter()
    trials = 4000
    for _ in range(trials):
        p1 = space.to_vector(space.random_genome(rng))
        p2 = space.to_vector(space.random_genome(rng))
        c1, c2 = cx_stagewise(list(p1), list(p2), bounds=bounds, qc=0.3, rng=rng)
        for s, (a, b) in enumerate(bounds):
            from_p1 = c1[a:b] == p1[a:b] and c2[a:b] == p2[a:b]
            from_p2 = c1[a:b] == p2[a:b] and c2[a:b] == p1[a:b]
            assert from_p1 or from_p2, "a stage was split or lost"
            if p1[a:b] != p2[a:b] and from_p2:
                swaps[s] += 1
        space.genome(c1), space.genome(c2)
    # Per-stage exchange rate ≈ qc (identical stages cannot show a swap, hence the slack).
    for s in range(len(bounds)):
        assert 0.2 < swaps[s] / trials < 0.32


def test_cx_stagewise_extremes_and_in_place() -> None:
    bounds = [(0, 1), (1, 4)]
    a, b = [0, 0, 0, 0], [1, 1, 1, 1]
    out = cx_stagewise(a, b, bounds=bounds, qc=1.0, rng=random.Random(0))
    assert out[0] is a and out[1] is b
    assert a == [1, 1, 1, 1] and b == [0, 0, 0, 0]
    cx_stagewise(a, b, bounds=bounds, qc=0.0, rng=random.Random(0))
    assert a == [1, 1, 1, 1] and b == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="equal-length"):
        cx_stagewise([0], [0, 1], bounds=bounds, qc=0.5, rng=random.Random(0))


def _piece_from_other(child: list[int], own: list[int], other: list[int], a: int, b: int):
    taken = [k for k in range(a, b) if child[k] == other[k] and child[k] != own[k]]
    return (min(taken), max(taken) + 1) if taken else None


def test_cx_segment_swaps_one_contiguous_piece_per_part() -> None:
    space = UNetSpace(depth=6)
    parts = [space.channel_bounds, space.skip_bounds]
    # Markers make every gene's origin visible: parent 1 holds 0..10, parent 2 holds 100..110.
    p1 = list(range(11))
    p2 = [100 + k for k in range(11)]
    rng = random.Random(7)
    pieces = {p: Counter() for p in parts}
    for _ in range(3000):
        c1, c2 = cx_segment(list(p1), list(p2), parts=parts, rng=rng)
        for k in range(11):  # position-preserving: nothing moves across positions or parts
            assert {c1[k], c2[k]} == {p1[k], p2[k]}
        for a, b in parts:
            piece = _piece_from_other(c1, p1, p2, a, b)
            assert piece is not None, "every part swaps a non-empty piece"
            i, j = piece
            assert c1[i:j] == p2[i:j] and c2[i:j] == p1[i:j]  # contiguous
            assert c1[a:i] + c1[j:b] == p1[a:i] + p1[j:b]
            assert c2[a:i] + c2[j:b] == p2[a:i] + p2[j:b]
            pieces[(a, b)][piece] += 1
    for (a, b), seen in pieces.items():
        n = b - a
        assert len(seen) == n * (n + 1) // 2  # every non-empty piece occurs


def test_cx_segment_leaves_genes_outside_parts_alone() -> None:
    a, b = [0] * 6, [1] * 6
    for seed in range(50):
        cx_segment(a, b, parts=[(1, 3)], rng=random.Random(seed))
        assert a[0] == 0 and a[3:] == [0, 0, 0] and b[0] == 1 and b[3:] == [1, 1, 1]


# --- mutation ----------------------------------------------------------------------------------
def test_mut_flip_bit_rate_matches_qm() -> None:
    rng = random.Random(8)
    ind = [0] * 100_000
    (out,) = mut_flip_bit(ind, qm=0.05, rng=rng)
    assert out is ind
    assert sum(ind) / len(ind) == pytest.approx(0.05, abs=0.003)


def test_mut_flip_bit_bounds_and_extremes() -> None:
    ind = [0, 1, 0, 1, 0, 1]
    mut_flip_bit(ind, qm=1.0, rng=random.Random(0), bounds=(2, 4))
    assert ind == [0, 1, 1, 0, 0, 1]
    mut_flip_bit(ind, qm=0.0, rng=random.Random(0))
    assert ind == [0, 1, 1, 0, 0, 1]
    mut_flip_bit(ind, qm=1.0, rng=random.Random(0))
    assert ind == [1, 0, 0, 1, 1, 0]


UNET = UNetSpace(depth=8)
UNET_KW = dict(
    channel_bounds=UNET.channel_bounds, n_choices=len(UNET.choices), skip_bounds=UNET.skip_bounds
)


def test_mut_channel_set_mutated_channel_always_takes_another_value() -> None:
    rng = random.Random(9)
    new_values = Counter()
    for _ in range(2000):
        parent = UNET.to_vector(UNET.random_genome(rng))
        child = list(parent)
        mut_channel_set(child, qm=1.0, rng=rng, **UNET_KW)
        for k in range(*UNET.channel_bounds):
            assert child[k] != parent[k] and 0 <= child[k] < len(UNET.choices)
            new_values[(parent[k], child[k])] += 1
        for k in range(*UNET.skip_bounds):
            assert child[k] == 1 - parent[k]
        UNET.genome(child)
    # The new value is uniform over the remaining choices of S1 (paper 000 §3.4).
    for old in range(4):
        row = [new_values[(old, new)] for new in range(4) if new != old]
        assert max(row) / min(row) < 1.2


def test_mut_channel_set_per_gene_rate_and_at_least_one() -> None:
    rng = random.Random(10)
    changed_total, n = 0, 3000
    for _ in range(n):
        parent = UNET.to_vector(UNET.random_genome(rng))
        child = list(parent)
        mut_channel_set(child, qm=0.2, rng=rng, **UNET_KW)
        diff = sum(x != y for x, y in zip(parent, child))
        assert diff >= 1
        changed_total += diff
    # 15 genes * 0.2 = 3 expected, plus the forced change when none happened (0.8^15 ≈ 3.5%).
    assert changed_total / n == pytest.approx(3.0 + 0.8**15, abs=0.1)
    ind = [0, 1, 2, 3, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0]
    child = list(ind)
    mut_channel_set(child, qm=0.0, rng=rng, **UNET_KW)
    assert sum(x != y for x, y in zip(ind, child)) == 1
    child = list(ind)
    mut_channel_set(child, qm=0.0, rng=rng, at_least_one=False, **UNET_KW)
    assert child == ind


def test_mut_channel_set_random_piece_when_qm_is_none() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        parent = UNET.to_vector(UNET.random_genome(rng))
        child = list(parent)
        mut_channel_set(child, qm=None, rng=rng, **UNET_KW)
        UNET.genome(child)
        for a, b in (UNET.channel_bounds, UNET.skip_bounds):
            changed = [k for k in range(a, b) if child[k] != parent[k]]
            assert changed, "each part mutates a non-empty piece"
            assert changed == list(range(changed[0], changed[-1] + 1)), "piece is contiguous"


def test_mut_channel_set_single_choice_leaves_channels() -> None:
    ind = [0, 0, 0, 1, 0]
    mut_channel_set(
        ind, channel_bounds=(0, 3), n_choices=1, skip_bounds=(3, 5), qm=1.0, rng=random.Random(0)
    )
    assert ind == [0, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="channel gene 0"):
        mut_channel_set(
            [5, 0, 0], channel_bounds=(0, 2), n_choices=4, skip_bounds=(2, 3), qm=0.1,
            rng=random.Random(0),
        )


# --- toolbox -----------------------------------------------------------------------------------
def test_build_toolbox_binds_layout_and_numbers() -> None:
    space = GeneticCNNSpace((3, 4, 5))
    tb = build_toolbox(space, GeneticCNNStrategy(qc=0.4, qm=0.1), rng=random.Random(0))
    assert tb.mate.keywords["bounds"] == space.stage_bounds and tb.mate.keywords["qc"] == 0.4
    assert tb.mutate.keywords["qm"] == 0.1
    assert not hasattr(tb, "elite")
    assert len(tb.select([0.1, 0.2, 0.3], 4)) == 4

    uspace = UNetSpace(depth=5, channels=(8, 16, 32))
    tb = build_toolbox(uspace, UNetStrategy(qm=0.25), rng=random.Random(0))
    assert tb.mate.keywords["parts"] == [(0, 5), (5, 9)]
    assert tb.mutate.keywords["n_choices"] == 3 and tb.mutate.keywords["qm"] == 0.25
    assert tb.elite([0.2, 0.5, 0.1], 1) == [1]
    ind = [0, 1, 2, 0, 1, 0, 1, 0, 1]
    tb.mutate(ind)
    uspace.genome(ind)


def test_build_toolbox_rejects_mismatched_strategy() -> None:
    with pytest.raises(NasgaInputError, match="strategy"):
        build_toolbox(UNetSpace(), GeneticCNNStrategy(), rng=random.Random(0))
    with pytest.raises(NasgaInputError, match="strategy"):
        build_toolbox(GeneticCNNSpace(), UNetStrategy(), rng=random.Random(0))
