"""The sub-commands of ``nasga`` (:mod:`nasga.cli` builds the parser and runs them).

Each module registers its sub-parsers with an ``add_<command>(sub)`` function whose parser's
``func`` runs the command and returns its exit code; bad input raises
:class:`~nasga.errors.NasgaInputError`, which :func:`nasga.cli.main` prints as one line.

* :mod:`nasga.commands.search` — ``run`` and ``worker``: the study config, its overrides and
  the local worker processes;
* :mod:`nasga.commands.results` — ``export``, ``train-best`` and ``report``: a study's results;
* :mod:`nasga.commands.compare` — ``compare``: samplers × seeds on equal budgets;
* :mod:`nasga.commands.repair` — ``repair``: a torn journal file.
"""
