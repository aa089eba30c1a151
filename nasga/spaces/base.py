"""The ``Space`` protocol: what every search space provides (docs/design.md, "The two genomes").

A search space is a genome codec — Optuna distributions, params ↔ genome ↔ flat gene vector ↔
string, a canonical key, random genomes — plus the facts and hooks the rest of nasga asks a
space for instead of testing its type: its default task and strategy preset, its ``[space]``
config keys, the model a genome builds, ``nasga describe``'s structure and text, and the
one-gene mutation of aging evolution. A new space is one module with one class satisfying
:class:`Space`, plus one entry in :data:`nasga.spaces.SPACES`.

Spaces stay importable without torch: hooks that need it (``build_model``) import lazily.
This module imports nothing from the space modules, so operators and strategies can name the
protocol in their annotations without an import cycle.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import optuna.distributions as od


@runtime_checkable
class Genome(Protocol):
    """A validated, immutable, hashable individual of a space."""

    def to_string(self) -> str:
        """The human (paper) string form, parsed back by :meth:`Space.parse`."""
        ...

    @property
    def key(self) -> str:
        """Canonical key: equal exactly for genomes that decode to the same network."""
        ...


@runtime_checkable
class Space(Protocol):
    """A genome search space.

    Attributes:
        name: Registry name (:data:`nasga.spaces.SPACES`), ``study.task`` of a config and the
            ``space`` of ``nasga describe`` (``"genetic-cnn"``, ``"unet"``).
        task_name: The default task (:func:`nasga.tasks.task_class`) of the space.
        strategy_name: The strategy preset (:func:`nasga.samplers.ga.strategies.get_strategy`) bred on it.
        config_keys: The ``[space]`` table's keys and their TOML types (lists hold positive ints).
        default_image_size: ``nasga describe``'s input height/width when none is given.
        percent_fitness: The default task's fitness is a share (accuracy): reports show percent.
    """

    name: ClassVar[str]
    task_name: ClassVar[str]
    strategy_name: ClassVar[str]
    config_keys: ClassVar[Mapping[str, type]]
    default_image_size: ClassVar[int]
    percent_fitness: ClassVar[bool]

    # --- codec -------------------------------------------------------------------------------
    @property
    def distributions(self) -> dict[str, od.BaseDistribution]:
        """Optuna distributions by stable parameter name; every gene an ``IntDistribution``."""
        ...

    @property
    def size(self) -> int:
        """Number of distinct genomes (gene vectors)."""
        ...

    def genome(self, vector: Sequence[int]) -> Any:
        """Genome from a flat gene vector (the operators' individual)."""
        ...

    def to_vector(self, genome: Any) -> list[int]:
        """Flat gene vector in parameter order; refuses a genome of another space."""
        ...

    def from_params(self, params: Mapping[str, int]) -> Any:
        """Genome from Optuna trial params."""
        ...

    def to_params(self, genome: Any) -> dict[str, int]:
        """Optuna trial params of a genome."""
        ...

    def parse(self, text: str) -> Any:
        """Genome from its string form."""
        ...

    def random_genome(self, rng: random.Random) -> Any:
        """A genome drawn as the space's paper initialises a population."""
        ...

    def graded_genome(self, rng: random.Random, size: float) -> Any:
        """A random genome whose network grows with ``size`` in ``[0, 1]``: near the space's
        smallest network at 0, its largest at 1 (a multi-objective study's first population,
        graded over the cost axis; docs/design.md, "Several objectives")."""
        ...

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> Space:
        """The space of a config's ``[space]`` table (keys and types already checked)."""
        ...

    @classmethod
    def from_options(cls, options: Mapping[str, Any], genome: str | None = None) -> Space:
        """The space of ``nasga describe``'s options (``None`` = default; other spaces' options
        ignored); ``genome``, the string to describe, may fill a size left unset."""
        ...

    # --- hooks -------------------------------------------------------------------------------
    def check_image_size(self, image_size: int) -> None:
        """Refuse an input size the space's networks cannot take (``NasgaInputError``)."""
        ...

    def build_model(self, genome: Any, *, in_channels: int = 3, n_classes: int = 10,
                    out_channels: int | None = None, image_size: int = 32,
                    filters: tuple[int, ...] | None = None) -> Any:
        """The genome's ``torch.nn.Module`` (imports torch lazily)."""
        ...

    def structure(self, genome: Any) -> dict[str, Any]:
        """JSON-ready structure of a genome (``nasga describe --json``)."""
        ...

    @classmethod
    def describe_lines(cls, info: Mapping[str, Any]) -> list[str]:
        """Readable lines of :meth:`structure`'s fields in ``info`` (``nasga describe``'s dict,
        whose ``space`` names the class)."""
        ...

    def mutate_one(self, genes: list[int], rng: random.Random) -> list[int]:
        """Change one gene of ``genes`` in place with the space's own mutation operator
        (aging evolution, Real et al. 2019); returns ``genes``."""
        ...


__all__ = ["Genome", "Space"]
