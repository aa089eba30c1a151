"""The papers' genetic algorithm as an Optuna sampler.

``operators`` (DEAP-style selection, crossover, mutation), ``strategies`` (each paper's preset
and breeding flowchart), ``breeding`` (children from finished data: selection values, mean
fitness per model, admission), ``claims`` (exactly-once tickets → work items) and ``sampler``
(:class:`~nasga.samplers.ga.sampler.GeneticSampler`, the Optuna hooks).
"""
