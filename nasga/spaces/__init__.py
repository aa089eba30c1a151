"""Genome codecs of the two search spaces. Pure Python: importing this never imports torch."""

from __future__ import annotations

from nasga.errors import NasgaInputError
from nasga.spaces.genetic_cnn import GeneticCNNGenome, GeneticCNNSpace, StageGraph
from nasga.spaces.unet import UNetGenome, UNetSpace

Space = GeneticCNNSpace | UNetSpace
Genome = GeneticCNNGenome | UNetGenome

__all__ = [
    "Genome",
    "GeneticCNNGenome",
    "GeneticCNNSpace",
    "NasgaInputError",
    "Space",
    "StageGraph",
    "UNetGenome",
    "UNetSpace",
]
