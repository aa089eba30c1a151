"""Tabular benchmarks: every genome of a small space trained ahead of time (issue 6).

:class:`~nasga.tasks.tabular.TabularTask` (task ``"genetic-cnn-bench"``) answers an evaluation
from the shipped table, so a sampler comparison over many seeds takes seconds; a table with
learning curves (``CURVE_TABLES``) replays each training epoch by epoch, for pruners (issue 27).
Torch-free.
"""

from __future__ import annotations

from nasga.bench.table import (
    BENCH_STAGES, CURVE_TABLE, CURVE_TABLES, DEFAULT_TABLE, BenchTable, TableSpread,
    canonical_genomes, table_path,
)

__all__ = ["BENCH_STAGES", "CURVE_TABLE", "CURVE_TABLES", "DEFAULT_TABLE", "BenchTable",
           "TableSpread", "canonical_genomes", "table_path"]
