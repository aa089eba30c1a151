"""The genomes of the two built-in search spaces: Genetic CNN bit strings decoded into stage DAGs
(paper 004, §3.1) and U-Net channel + skip codes (paper 000, §3.1–3.2).

Genomes live apart from their spaces (:mod:`nasga.spaces.genetic_cnn`, :mod:`nasga.spaces.unet`)
because the torch models (:mod:`nasga.models`) and the report layouts read them, while each
space's ``build_model`` hook imports its model: models → genomes ← spaces, with no import cycle.

Decoding of a Genetic CNN stage follows §3.1.1:

* a default input node (a convolution on the previous stage's output) feeds every active node
  without a predecessor;
* a default output node sums every active node without a successor and applies a convolution;
* an isolated node (no edge at all) is dropped;
* a stage whose bits are all zero is a single convolution, not two.

This module imports no deep-learning framework.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from nasga.errors import NasgaInputError, is_int

_EXACT_CANON_MAX_NODES = 8


def stage_pairs(n_nodes: int) -> list[tuple[int, int]]:
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
        validate_stages(self.stages)
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
            edges = frozenset(p for p, b in zip(stage_pairs(k), self.bits[sl]) if b)
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


MAX_CHANNELS = 4096
"""Most channels of one convolution (U-Net channel choices, Genetic CNN filters, PatchGAN
``ndf``, input channels): a bound against typos, far above the papers' 512."""
MAX_STAGES = 16
"""Most stages of a Genetic-CNN space (each stage pools: 16 halve any image to one pixel)."""
MAX_STAGE_NODES = 64
"""Most nodes of one stage: its ``K(K-1)/2`` bits grow fast (2,016 at 64; the paper uses 3–5)."""


def validate_stages(stages: Sequence[int]) -> None:
    """Refuse an empty stage list or a stage with fewer than one node (field ``stages``), and
    more than :data:`MAX_STAGES` stages or :data:`MAX_STAGE_NODES` nodes."""
    if len(stages) < 1:
        raise NasgaInputError("stages", "need at least one stage, got none")
    if len(stages) > MAX_STAGES:
        raise NasgaInputError("stages", f"at most {MAX_STAGES} stages, got {len(stages)}")
    for s, k in enumerate(stages, start=1):
        if not is_int(k) or k < 1:
            raise NasgaInputError("stages", f"stage {s} needs at least 1 node, got {k!r}")
        if k > MAX_STAGE_NODES:
            raise NasgaInputError("stages", f"stage {s} has at most {MAX_STAGE_NODES} nodes, "
                                  f"got {k!r}")
    if all(k == 1 for k in stages):
        raise NasgaInputError("stages", f"need a stage of at least 2 nodes (a stage of K nodes "
                              f"has K(K-1)/2 genes, so these have none to search), got "
                              f"{list(stages)}")


@dataclass(frozen=True)
class UNetGenome:
    """A U-Net individual: per-encoder-layer channels and skip bits.

    Attributes:
        channels: Output channels of encoder layers 0..depth-1 (outermost first).
        skips: ``depth - 1`` bits; bit ``i`` keeps the skip from encoder output ``i``.
    """

    channels: tuple[int, ...]
    skips: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "skips", tuple(self.skips))
        if len(self.channels) < 1:
            raise NasgaInputError("genome", "need at least one channel gene, got none")
        for c in self.channels:
            if not is_int(c) or c < 1:
                raise NasgaInputError("genome", f"channels must be positive integers, got {c!r}")
        if len(self.skips) != len(self.channels) - 1:
            raise NasgaInputError(
                "genome",
                f"{len(self.channels)} channel genes need {len(self.channels) - 1} skip bits, "
                f"got {len(self.skips)}",
            )
        for b in self.skips:
            if b not in (0, 1) or isinstance(b, bool):
                raise NasgaInputError("genome", f"skip bits must be 0 or 1, got {b!r}")

    @property
    def depth(self) -> int:
        """Number of encoder (and decoder) layers."""
        return len(self.channels)

    def to_string(self) -> str:
        """``64-128-...-512|1111111``."""
        return "-".join(str(c) for c in self.channels) + "|" + "".join(str(b) for b in self.skips)

    def __str__(self) -> str:
        return self.to_string()

    @property
    def key(self) -> str:
        """Canonical key: every distinct genome is a distinct network."""
        return "unet/" + self.to_string()
