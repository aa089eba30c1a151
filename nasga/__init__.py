"""nasga: genetic neural-architecture search with DEAP operators and Optuna storage."""

from __future__ import annotations

__version__ = "0.1.0"
