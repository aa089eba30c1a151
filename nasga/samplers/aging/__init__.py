"""Aging (regularized) evolution, Real et al. 2019, as an Optuna sampler for any search space.

``operators`` (tournament, one-gene mutation, resampling one Optuna parameter), ``intensify``
(SMAC's intensification, Hutter et al. 2011 §4.2) and ``sampler``
(:class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler`).
"""
