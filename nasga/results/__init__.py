"""A study's results: ``best`` (the one best-genome rule), ``stats`` (paper 004 Table 1 rows),
``export`` (JSON, ``train-best``), ``describe`` (a genome's structure, parameters and MACs),
``report`` (the HTML report) and ``reproduce`` (docs/reproduction.md).
"""
