"""nasga's Optuna samplers and the one registry of sampler names.

* :class:`~nasga.samplers.ga.sampler.GeneticSampler` (:mod:`nasga.samplers.ga`): the papers' generational GA (paper 004
  Alg. 1, paper 000 Alg. 1) and its steady-state mode, with exactly-once child claims.
* :class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` (:mod:`nasga.samplers.aging`): regularized evolution
  (Real et al. 2019), optionally with SMAC's intensification.
* :mod:`nasga.samplers.baselines`: multi-fidelity baselines run by their authors' code (DEHB,
  Syne Tune's regularized evolution under ASHA; optional packages), for comparisons at equal
  epochs.
* :mod:`nasga.samplers.registry`: every sampler name ``nasga`` accepts (``--sampler``,
  ``[study] sampler``, ``nasga compare --samplers``) mapped to a seeded sampler.

The public names are imported lazily (PEP 562): :mod:`nasga.spaces` uses the GA's genome
operators, so importing this package must not import the samplers, which import the spaces.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "GeneticSampler": "nasga.samplers.ga.sampler",
    "AgingEvolutionSampler": "nasga.samplers.aging.sampler",
    "get_strategy": "nasga.samplers.ga.strategies",
    "make_sampler": "nasga.samplers.registry",
    "SAMPLER_NAMES": "nasga.samplers.registry",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'nasga.samplers' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
