"""Search spaces: the :class:`Space` protocol, the two papers' spaces and their registry.

Pure Python: importing this never imports torch. A new space is one module whose class
satisfies :class:`~nasga.spaces.base.Space`, plus one entry in :data:`SPACES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasga.errors import NasgaInputError
from nasga.spaces.base import Genome, Space
from nasga.spaces.genetic_cnn import GeneticCNNGenome, GeneticCNNSpace, StageGraph
from nasga.spaces.unet import UNetGenome, UNetSpace

#: Every search space by name (``study.task``, ``nasga describe --space``), in the order error
#: messages list them.
SPACES: dict[str, type[Space]] = {UNetSpace.name: UNetSpace, GeneticCNNSpace.name: GeneticCNNSpace}


def space_class(name: str) -> type[Space]:
    """The space class registered as ``name``.

    Raises:
        NasgaInputError: ``space``: an unknown name, listing the registered ones.
    """
    if isinstance(name, str) and name in SPACES:
        return SPACES[name]
    raise NasgaInputError("space", f"must be {' or '.join(repr(n) for n in SPACES)}, got {name!r}")


def space_from_config(name: str, table: Mapping[str, Any]) -> Space:
    """The space ``name`` built from a config's ``[space]`` table (keys and types already
    checked by :func:`nasga.search.config.build_space`).

    Raises:
        NasgaInputError: An unknown name, or a bad value (named ``space.FIELD``).
    """
    cls = space_class(name)
    try:
        return cls.from_config(table)
    except NasgaInputError as exc:
        raise exc.within("space") from None


__all__ = [
    "SPACES",
    "Genome",
    "GeneticCNNGenome",
    "GeneticCNNSpace",
    "NasgaInputError",
    "Space",
    "StageGraph",
    "UNetGenome",
    "UNetSpace",
    "space_class",
    "space_from_config",
]
