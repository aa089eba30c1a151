"""Deprecated import path kept for nasga 0.1 users: use :mod:`nasga.samplers`."""

from nasga.samplers.ga.sampler import GeneticSampler

__all__ = ["GeneticSampler"]
