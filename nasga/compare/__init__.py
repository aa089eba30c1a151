"""Samplers × seeds on equal training budgets (``nasga compare``, ``scripts/bench_compare.py``).

``runs`` (the configs, the default storage, all runs), ``run`` (one (sampler, seed) run and its
incumbent and regret curve) and ``report`` (CSV, mean ± s.e. summaries, HTML).
"""
