"""A search from a study file to a finished study.

``config`` (study TOML files: every rule and its one-line error), ``overrides`` (``--set`` and
the command-line flags on a config, validated once), ``settings`` (the validated
config as typed, frozen objects, passed whole), ``run`` (create/resume, optimize, settle,
summary), ``confirm`` (``--confirm K``), ``workers`` and ``devices`` (worker processes, their
devices and threads) and ``interrupts`` (SIGINT / SIGTERM).
"""
