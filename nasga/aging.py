"""Deprecated import path kept for nasga 0.1 users: use :mod:`nasga.samplers`."""

from nasga.samplers.aging.sampler import AgingEvolutionSampler

__all__ = ["AgingEvolutionSampler"]
