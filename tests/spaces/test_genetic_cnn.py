from __future__ import annotations

import itertools
import random
import sys

import pytest

from nasga.spaces import GeneticCNNSpace, NasgaInputError
from tests.helpers import TABLE1

# Every "Best Network Structure" of paper 004, Table 1.


def test_import_does_not_pull_torch() -> None:
    import subprocess

    code = "import nasga.spaces, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("text", TABLE1)
def test_table1_strings_round_trip(text: str) -> None:
    space = GeneticCNNSpace((3, 4, 5))
    genome = space.parse(text)
    assert genome.to_string() == text
    assert space.n_bits == 19
    assert space.from_params(space.to_params(genome)) == genome


def test_bit_order_is_the_papers() -> None:
    # Stage of 4 nodes: (v1,v2), (v1,v3), (v2,v3), (v1,v4), (v2,v4), (v3,v4).
    space = GeneticCNNSpace((4,))
    g = space.parse("0-01-100")
    assert g.graphs[0].edges == {(2, 3), (1, 4)}
    assert space.param_names == ["s1_1_2", "s1_1_3", "s1_2_3", "s1_1_4", "s1_2_4", "s1_3_4"]


def test_decoding_rules() -> None:
    space = GeneticCNNSpace((3, 4, 5))
    g = space.parse("1-00|0-00-000|1-11-111-1111")
    isolated, empty, dense = g.graphs
    assert isolated.active_nodes == (1, 2)  # node 3 isolated, dropped
    assert isolated.n_convolutions == 4  # default in + 2 nodes + default out
    assert empty.is_empty and empty.n_convolutions == 1
    assert all(dense.predecessors(j) == tuple(range(1, j)) for j in range(1, 6))
    assert dense.sources == (1,) and dense.sinks == (5,)
    fan = space.parse("0-11|0-00-000|0-00-000-0000").graphs[0]  # 1->3, 2->3
    assert fan.sources == (1, 2) and fan.sinks == (3,)


def _relabel_stage(space: GeneticCNNSpace, text: str, stage: int, order: list[int]) -> str:
    """Relabel stage nodes by a permutation that keeps every edge forward."""
    g = space.parse(text)
    k = space.stages[stage]
    new = {old: order.index(old) + 1 for old in range(1, k + 1)}
    edges = {(new[i], new[j]) for i, j in g.graphs[stage].edges}
    assert all(i < j for i, j in edges)
    bits = list(g.bits)
    start, stop = space.stage_bounds[stage]
    pairs = [(i, j) for j in range(2, k + 1) for i in range(1, j)]
    bits[start:stop] = [int(p in edges) for p in pairs]
    return space.genome(bits).to_string()


def test_isomorphic_relabelling_shares_key() -> None:
    space = GeneticCNNSpace((3, 4, 5))
    rng = random.Random(0)
    checked = 0
    for _ in range(200):
        g = space.random_genome(rng)
        s = rng.randrange(3)
        graph = g.graphs[s]
        k = space.stages[s]
        # A random topological order of the stage's nodes.
        remaining, order = set(range(1, k + 1)), []
        while remaining:
            ready = [n for n in sorted(remaining)
                     if all(p not in remaining for p in graph.predecessors(n))]
            pick = rng.choice(ready)
            order.append(pick)
            remaining.remove(pick)
        other = _relabel_stage(space, g.to_string(), s, order)
        assert space.parse(other).key == g.key
        checked += other != g.to_string()
    assert checked > 50  # many relabellings really changed the string


@pytest.mark.parametrize("k,expected", [(2, 2), (3, 6), (4, 31), (5, 302)])
def test_distinct_keys_count_unlabelled_dags(k: int, expected: int) -> None:
    # Stage networks up to isomorphism = unlabelled DAGs on k nodes (OEIS A003087):
    # an isolated node is dropped, so DAGs with isolated nodes collapse onto smaller ones.
    space = GeneticCNNSpace((k,))
    keys = {space.genome(bits).key for bits in itertools.product((0, 1), repeat=space.n_bits)}
    assert len(keys) == expected


def test_different_networks_different_keys() -> None:
    space = GeneticCNNSpace((3,))
    chain, fan_in, fan_out, empty = (space.parse(t) for t in ("1-01", "0-11", "1-10", "0-00"))
    assert len({chain.key, fan_in.key, fan_out.key, empty.key}) == 4
    assert space.parse("1-00").key != space.parse("0-00").key


def test_random_genome_is_seeded() -> None:
    space = GeneticCNNSpace()
    a = [space.random_genome(random.Random(3)) for _ in range(2)]
    b = space.random_genome(random.Random(4))
    assert a[0] == a[1] and a[0] != b


def test_distributions_are_int_bits() -> None:
    from optuna.distributions import IntDistribution

    d = GeneticCNNSpace().distributions
    assert len(d) == 19 and all(v == IntDistribution(0, 1) for v in d.values())


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("1-01|0-01-111", "expected 3 stages"),
        ("1-01|0-01-11|0-11-010-0111", "stage 2 (4 nodes) needs groups"),
        ("1-02|0-01-111|0-11-010-0111", "bad character '2'"),
        ("1-0x|0-01-111|0-11-010-0111", "bad character 'x'"),
        ("", "expected 3 stages"),
    ],
)
def test_bad_strings(text: str, fragment: str) -> None:
    with pytest.raises(NasgaInputError, match="genome") as info:
        GeneticCNNSpace().parse(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_stages_and_vectors() -> None:
    with pytest.raises(NasgaInputError, match="stage 2 needs at least 1 node, got 0"):
        GeneticCNNSpace((3, 0))
    with pytest.raises(NasgaInputError, match="need 19 bits, got 3"):
        GeneticCNNSpace().genome([0, 1, 1])
    with pytest.raises(NasgaInputError, match="missing 's1_1_2'"):
        GeneticCNNSpace().from_params({})


def test_graded_genomes_grow_from_the_empty_network_to_the_full_one() -> None:
    space = GeneticCNNSpace((3, 4, 5))
    rng = random.Random(0)
    assert space.to_vector(space.graded_genome(rng, 0.0)) == [0] * space.n_bits
    assert space.to_vector(space.graded_genome(rng, 1.0)) == [1] * space.n_bits
    ones = [sum(space.to_vector(space.graded_genome(rng, size))) / space.n_bits
            for size in (0.1, 0.5, 0.9) for _ in range(200)]
    means = [sum(ones[i:i + 200]) / 200 for i in (0, 200, 400)]
    assert means == pytest.approx([0.1, 0.5, 0.9], abs=0.02)
    assert space.graded_genome(random.Random(5), 0.3) == space.graded_genome(random.Random(5), 0.3)
