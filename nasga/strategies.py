"""Deprecated import path kept for nasga 0.1 users: use :mod:`nasga.samplers`."""

from nasga.samplers.ga.strategies import GeneticCNNStrategy, Strategy, UNetStrategy, get_strategy

__all__ = ["GeneticCNNStrategy", "Strategy", "UNetStrategy", "get_strategy"]
