"""Genetic CNN search space: binary stage DAGs (paper 004, §3.1).

A network has ``S`` stages; stage ``s`` has ``K_s`` ordinary nodes and is encoded by
``K_s (K_s - 1) / 2`` bits in the paper's order (v1,v2), (v1,v3), (v2,v3), (v1,v4), ...
A bit ``(v_i, v_j)`` set to 1 means node ``j`` sums the output of node ``i`` into its input.
The genome and its §3.1.1 decoding (:class:`StageGraph`) are in :mod:`nasga.spaces.genomes`;
:class:`GeneticCNNSpace` is the codec and the :class:`~nasga.spaces.base.Space` hooks.

This module imports no deep-learning framework.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import optuna.distributions as od

from nasga.errors import NasgaInputError
from nasga.spaces.genomes import (
    GeneticCNNGenome,
    StageGraph,
    stage_bounds,
    stage_pairs,
    validate_stages,
)


GENOME_CACHE = 65536
"""Validated genomes a :class:`GeneticCNNSpace` keeps per process (a few MB at most)."""


class GeneticCNNSpace:
    """The Genetic CNN genome space for given stage sizes (paper 004, §3.1).

    Args:
        stages: Ordinary nodes per stage, ``(K_1, ..., K_S)``; paper: ``(3, 4, 5)``.
    """

    name: ClassVar[str] = "genetic-cnn"
    task_name: ClassVar[str] = "genetic-cnn"  # paper 004's classification task
    strategy_name: ClassVar[str] = "genetic-cnn"  # paper 004's Algorithm 1
    config_keys: ClassVar[Mapping[str, type]] = {"stages": list}
    default_image_size: ClassVar[int] = 32  # CIFAR-10 (§4.1)
    percent_fitness: ClassVar[bool] = True  # fitness = validation accuracy

    def __init__(self, stages: Sequence[int] = (3, 4, 5)) -> None:
        validate_stages(list(stages))
        self.stages: tuple[int, ...] = tuple(stages)
        self.n_bits = sum(k * (k - 1) // 2 for k in self.stages)
        self._names = [
            f"s{s}_{i}_{j}"
            for s, k in enumerate(self.stages, start=1)
            for i, j in stage_pairs(k)
        ]
        self._distributions = {n: od.IntDistribution(0, 1) for n in self._names}
        self._genomes: dict[tuple[Any, ...], GeneticCNNGenome] = {}  # validated, by bit vector

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_genomes": {}}  # the cache stays in its process

    def __repr__(self) -> str:
        return f"GeneticCNNSpace(stages={self.stages})"

    @property
    def param_names(self) -> list[str]:
        """Optuna parameter names, one per bit: ``s{stage}_{i}_{j}`` for edge (v_i, v_j)."""
        return list(self._names)

    @property
    def distributions(self) -> dict[str, od.BaseDistribution]:
        """``IntDistribution(0, 1)`` per bit, so every Optuna sampler searches it natively."""
        return dict(self._distributions)

    @property
    def size(self) -> int:
        """Number of distinct bit strings, ``2^L``."""
        return 2**self.n_bits

    # --- conversions ---------------------------------------------------------------------
    def genome(self, bits: Sequence[int]) -> GeneticCNNGenome:
        """Genome from a flat bit vector (the operators' individual).

        Genomes are immutable, so each vector's is built and validated once per process (up
        to :data:`GENOME_CACHE` vectors): breeding checks every parent on every call."""
        key = tuple(bits)
        genome = self._genomes.get(key)
        if genome is None:
            genome = GeneticCNNGenome(self.stages, tuple(int(b) for b in bits))
            if len(self._genomes) < GENOME_CACHE:
                self._genomes[key] = genome
        return genome

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

    def graded_genome(self, rng: random.Random, size: float) -> GeneticCNNGenome:
        """Each bit ~ Bernoulli(``size``): connections, and so MACs, grow with ``size``."""
        return self.genome([int(rng.random() < size) for _ in range(self.n_bits)])

    # --- operator layout -------------------------------------------------------------------
    @property
    def stage_bounds(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of each stage in the flat vector: ``cx_stagewise`` units."""
        return stage_bounds(self.stages)

    def _check_same_space(self, genome: GeneticCNNGenome) -> None:
        if not isinstance(genome, GeneticCNNGenome) or genome.stages != self.stages:
            raise NasgaInputError("genome", f"not a genome of {self!r}: {genome!r}")

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> GeneticCNNSpace:
        """``[space] stages = [...]`` (default: the paper's ``[3, 4, 5]``, §4.1.1)."""
        return cls(tuple(table.get("stages", [3, 4, 5])))

    @classmethod
    def from_options(cls, options: Mapping[str, Any], genome: str | None = None
                     ) -> GeneticCNNSpace:
        """``nasga describe --stages`` (default ``(3, 4, 5)``); the genome is not consulted."""
        return cls(options.get("stages") or (3, 4, 5))

    # --- hooks (docs/design.md, "The two genomes") ----------------------------------------
    def check_image_size(self, image_size: int) -> None:
        """Any size >= 1 works: each stage's padded 3×3 / stride-2 max-pool rounds the size up."""

    def build_model(self, genome: GeneticCNNGenome, *, in_channels: int = 3, n_classes: int = 10,
                    out_channels: int | None = None, image_size: int = 32,
                    filters: tuple[int, ...] | None = None) -> Any:
        """The :class:`~nasga.models.GeneticCNN` classifier of ``genome`` (§4.1.1; ``filters``
        per stage default to the paper's 8, 8, 16; ``out_channels`` is unused)."""
        from nasga.models.genetic_cnn import PAPER_FILTERS, GeneticCNN

        return GeneticCNN(genome, in_channels=in_channels, n_classes=n_classes,
                          filters=filters or PAPER_FILTERS, image_size=image_size)

    def structure(self, genome: GeneticCNNGenome) -> dict[str, Any]:
        """Per stage: nodes, active nodes, edges, sources, sinks and convolutions (§3.1.1)."""
        return {
            "stages": [
                {
                    "nodes": g.n_nodes,
                    "active_nodes": list(g.active_nodes),
                    "edges": sorted([list(e) for e in g.edges]),
                    "sources": list(g.sources),
                    "sinks": list(g.sinks),
                    "convolutions": g.n_convolutions,
                }
                for g in genome.graphs
            ]
        }

    @classmethod
    def describe_lines(cls, info: Mapping[str, Any]) -> list[str]:
        """One line per stage: nodes, active nodes, edges and convolutions."""
        lines = []
        for s, st in enumerate(info["stages"], start=1):
            edges = " ".join(f"{i}->{j}" for i, j in st["edges"]) or "(none: one convolution)"
            lines.append(f"  stage {s}: {st['nodes']} nodes, active {st['active_nodes']}, "
                         f"edges {edges}, {st['convolutions']} convs")
        return lines

    def mutate_one(self, genes: list[int], rng: random.Random) -> list[int]:
        """:func:`~nasga.samplers.ga.operators.mut_flip_bit` with ``q_M = 1`` on one uniformly drawn bit
        (§3.2.3's mutation, one bit at a time)."""
        from nasga.samplers.ga.operators import mut_flip_bit

        i = rng.randrange(len(genes))
        mut_flip_bit(genes, qm=1.0, rng=rng, bounds=(i, i + 1))
        return genes


__all__ = ["GeneticCNNGenome", "GeneticCNNSpace", "StageGraph", "stage_bounds"]
