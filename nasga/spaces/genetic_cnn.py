"""Genetic CNN search space: binary stage DAGs (paper 004, §3.1).

A network has ``S`` stages; stage ``s`` has ``K_s`` ordinary nodes and is encoded by
``K_s (K_s - 1) / 2`` bits in the paper's order (v1,v2), (v1,v3), (v2,v3), (v1,v4), ...
A bit ``(v_i, v_j)`` set to 1 means node ``j`` sums the output of node ``i`` into its input.

Decoding follows §3.1.1:

* a default input node (a convolution on the previous stage's output) feeds every active node
  without a predecessor;
* a default output node sums every active node without a successor and applies a convolution;
* an isolated node (no edge at all) is dropped;
* a stage whose bits are all zero is a single convolution, not two.

This module imports no deep-learning framework.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import optuna.distributions as od

from nasga.errors import NasgaInputError

_EXACT_CANON_MAX_NODES = 8


def _stage_pairs(n_nodes: int) -> list[tuple[int, int]]:
    """Edge order of one stage: (1,2), (1,3), (2,3), (1,4), ... (1-based, paper §3.1)."""
    return [(i, j) for j in range(2, n_nodes + 1) for i in range(1, j)]


def stage_bounds(stages: tuple[int, ...]) -> list[tuple[int, int]]:
    """``(start, stop)`` of each stage's ``K(K−1)/2`` bits in the genome (§3.1.1 order)."""
    out, start = [], 0
    for k in stages:
        out.append((start, start + k * (k - 1) // 2))
        start += k * (k - 1) // 2
    return out


@dataclass(frozen=True)
class StageGraph:
    """The decoded DAG of one stage.

    Attributes:
        n_nodes: ``K_s``, the number of ordinary nodes the stage encodes.
        edges: Directed edges ``(i, j)`` with ``i < j`` (1-based node numbers).
    """

    n_nodes: int
    edges: frozenset[tuple[int, int]]

    @property
    def is_empty(self) -> bool:
        """All bits zero: the stage is one convolution (§3.1.1, second special case)."""
        return not self.edges

    @cached_property
    def active_nodes(self) -> tuple[int, ...]:
        """Nodes with at least one edge; isolated nodes are dropped (§3.1.1)."""
        return tuple(sorted({n for e in self.edges for n in e}))

    def predecessors(self, node: int) -> tuple[int, ...]:
        """Nodes whose outputs ``node`` sums before its convolution."""
        return tuple(sorted(i for i, j in self.edges if j == node))

    def successors(self, node: int) -> tuple[int, ...]:
        """Nodes that read ``node``'s output."""
        return tuple(sorted(j for i, j in self.edges if i == node))

    @property
    def sources(self) -> tuple[int, ...]:
        """Active nodes fed by the default input node (no predecessor)."""
        return tuple(n for n in self.active_nodes if not self.predecessors(n))

    @property
    def sinks(self) -> tuple[int, ...]:
        """Active nodes summed into the default output node (no successor)."""
        return tuple(n for n in self.active_nodes if not self.successors(n))

    @property
    def n_convolutions(self) -> int:
        """Convolutions the stage performs: 1 if empty, else active nodes + 2 default nodes."""
        return 1 if self.is_empty else len(self.active_nodes) + 2

    @property
    def canonical(self) -> str:
        """A code equal for isomorphic DAGs of active nodes (see :func:`_canonical_stage`)."""
        return _canonical_stage(self.edges)


@lru_cache(maxsize=65536)
def _canonical_stage(edges: frozenset[tuple[int, int]]) -> str:
    """Canonical code of a stage DAG, invariant to relabelling its active nodes.

    For up to 8 active nodes the code is exact: the smallest upper-triangular adjacency string
    over all relabellings that keep every edge pointing forward, prefixed by the node count.
    Larger stages use a Weisfeiler-Lehman style hash of in/out degrees like NAS-Bench-101's
    ``graph_util.hash_module`` (isomorphic graphs always collide; distinct graphs almost never).
    """
    nodes = sorted({n for e in edges for n in e})
    m = len(nodes)
    if m == 0:
        return "0:"
    if m > _EXACT_CANON_MAX_NODES:
        return f"{m}:wl{_wl_hash(nodes, edges)}"
    pairs = [(i, j) for j in range(m) for i in range(j)]
    best: str | None = None
    for perm in itertools.permutations(range(m)):
        label = {node: perm[k] for k, node in enumerate(nodes)}
        relabelled = {(label[i], label[j]) for i, j in edges}
        if any(i > j for i, j in relabelled):
            continue
        code = "".join("1" if p in relabelled else "0" for p in pairs)
        if best is None or code < best:
            best = code
    return f"{m}:{best}"


def _wl_hash(nodes: list[int], edges: frozenset[tuple[int, int]]) -> str:
    import hashlib

    preds = {n: [i for i, j in edges if j == n] for n in nodes}
    succs = {n: [j for i, j in edges if i == n] for n in nodes}
    labels = {n: f"{len(preds[n])}-{len(succs[n])}" for n in nodes}
    for _ in range(len(nodes)):
        labels = {
            n: hashlib.md5(
                (
                    "|".join(sorted(labels[p] for p in preds[n]))
                    + "/"
                    + "|".join(sorted(labels[s] for s in succs[n]))
                    + "/"
                    + labels[n]
                ).encode()
            ).hexdigest()
            for n in nodes
        }
    return hashlib.md5("".join(sorted(labels.values())).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class GeneticCNNGenome:
    """A Genetic CNN individual: stage sizes and the flat bit string (paper 004, §3.1).

    Validated on construction; immutable and hashable.
    """

    stages: tuple[int, ...]
    bits: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "bits", tuple(self.bits))
        _validate_stages(self.stages)
        expected = sum(k * (k - 1) // 2 for k in self.stages)
        if len(self.bits) != expected:
            raise NasgaInputError(
                "genome",
                f"stages {list(self.stages)} need {expected} bits, got {len(self.bits)}",
            )
        for b in self.bits:
            if b not in (0, 1) or isinstance(b, bool):
                raise NasgaInputError("genome", f"bits must be 0 or 1, got {b!r}")

    @property
    def stage_slices(self) -> tuple[slice, ...]:
        """Slices of :attr:`bits` belonging to each stage (the unit of ``cx_stagewise``)."""
        return tuple(slice(a, b) for a, b in stage_bounds(self.stages))

    @property
    def graphs(self) -> tuple[StageGraph, ...]:
        """Per-stage decoded DAGs."""
        result = []
        for k, sl in zip(self.stages, self.stage_slices):
            edges = frozenset(p for p, b in zip(_stage_pairs(k), self.bits[sl]) if b)
            result.append(StageGraph(n_nodes=k, edges=edges))
        return tuple(result)

    def to_string(self) -> str:
        """The paper's form, e.g. ``1-01|0-01-111|0-11-010-0111`` (Table 1)."""
        stages = []
        for k, sl in zip(self.stages, self.stage_slices):
            bits = self.bits[sl]
            groups, start = [], 0
            for width in range(1, k):
                groups.append("".join(str(b) for b in bits[start : start + width]))
                start += width
            stages.append("-".join(groups))
        return "|".join(stages)

    def __str__(self) -> str:
        return self.to_string()

    @property
    def key(self) -> str:
        """Canonical key: equal for genomes that decode to the same network.

        Two genomes share a key when every stage's DAG of active nodes is isomorphic to the
        other's (isolated nodes dropped, §3.1.1), like NAS-Bench-101's module hash.
        """
        return "gcnn/" + "|".join(g.canonical for g in self.graphs)


def _validate_stages(stages: Sequence[int]) -> None:
    if len(stages) < 1:
        raise NasgaInputError("stages", "need at least one stage, got none")
    for s, k in enumerate(stages, start=1):
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise NasgaInputError("stages", f"stage {s} needs at least 1 node, got {k!r}")


class GeneticCNNSpace:
    """The Genetic CNN genome space for given stage sizes (paper 004, §3.1).

    Args:
        stages: Ordinary nodes per stage, ``(K_1, ..., K_S)``; paper: ``(3, 4, 5)``.
    """

    name = "genetic-cnn"

    def __init__(self, stages: Sequence[int] = (3, 4, 5)) -> None:
        _validate_stages(list(stages))
        self.stages: tuple[int, ...] = tuple(stages)
        self.n_bits = sum(k * (k - 1) // 2 for k in self.stages)
        self._names = [
            f"s{s}_{i}_{j}"
            for s, k in enumerate(self.stages, start=1)
            for i, j in _stage_pairs(k)
        ]

    def __repr__(self) -> str:
        return f"GeneticCNNSpace(stages={self.stages})"

    @property
    def param_names(self) -> list[str]:
        """Optuna parameter names, one per bit: ``s{stage}_{i}_{j}`` for edge (v_i, v_j)."""
        return list(self._names)

    @property
    def distributions(self) -> dict[str, od.BaseDistribution]:
        """``IntDistribution(0, 1)`` per bit, so every Optuna sampler searches it natively."""
        return {n: od.IntDistribution(0, 1) for n in self._names}

    @property
    def size(self) -> int:
        """Number of distinct bit strings, ``2^L``."""
        return 2**self.n_bits

    # --- conversions ---------------------------------------------------------------------
    def genome(self, bits: Sequence[int]) -> GeneticCNNGenome:
        """Genome from a flat bit vector (the operators' individual)."""
        return GeneticCNNGenome(self.stages, tuple(int(b) for b in bits))

    def to_vector(self, genome: GeneticCNNGenome) -> list[int]:
        """Flat gene vector in parameter order."""
        self._check_same_space(genome)
        return list(genome.bits)

    def from_params(self, params: Mapping[str, int]) -> GeneticCNNGenome:
        """Genome from Optuna trial params; names missing → clear error."""
        missing = [n for n in self._names if n not in params]
        if missing:
            raise NasgaInputError("params", f"missing {missing[0]!r} ({len(missing)} missing)")
        return self.genome([params[n] for n in self._names])

    def to_params(self, genome: GeneticCNNGenome) -> dict[str, int]:
        """Optuna params for a genome."""
        return dict(zip(self._names, self.to_vector(genome)))

    def parse(self, text: str) -> GeneticCNNGenome:
        """Parse the paper's string form, e.g. ``1-01|0-01-111|0-11-010-0111``."""
        if not isinstance(text, str):
            raise NasgaInputError("genome", f"expected a string, got {text!r}")
        parts = text.strip().split("|")
        if len(parts) != len(self.stages):
            raise NasgaInputError(
                "genome", f"expected {len(self.stages)} stages separated by '|', got "
                f"{len(parts)} in {text!r}"
            )
        bits: list[int] = []
        for s, (k, part) in enumerate(zip(self.stages, parts), start=1):
            groups = part.split("-") if part else []
            if k == 1:
                if part:
                    raise NasgaInputError("genome", f"stage {s} has 1 node and no bits, got {part!r}")
                continue
            widths = [len(g) for g in groups]
            if widths != list(range(1, k)):
                raise NasgaInputError(
                    "genome",
                    f"stage {s} ({k} nodes) needs groups of 1..{k - 1} bits like "
                    f"{'-'.join('0' * w for w in range(1, k))!r}, got {part!r}",
                )
            for ch in "".join(groups):
                if ch not in "01":
                    raise NasgaInputError("genome", f"bad character {ch!r} in stage {s} {part!r}")
                bits.append(int(ch))
        return self.genome(bits)

    def random_genome(self, rng: random.Random) -> GeneticCNNGenome:
        """Each bit ~ Bernoulli(0.5) (paper 004, §3.2.1)."""
        return self.genome([rng.randint(0, 1) for _ in range(self.n_bits)])

    # --- operator layout -------------------------------------------------------------------
    @property
    def stage_bounds(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of each stage in the flat vector: ``cx_stagewise`` units."""
        return stage_bounds(self.stages)

    def _check_same_space(self, genome: GeneticCNNGenome) -> None:
        if not isinstance(genome, GeneticCNNGenome) or genome.stages != self.stages:
            raise NasgaInputError("genome", f"not a genome of {self!r}: {genome!r}")
