"""Tabular benchmarks: every genome of a small space trained ahead of time (issue 6).

:class:`~nasga.tasks.tabular.TabularTask` (task ``"genetic-cnn-bench"``) answers an evaluation
from the shipped table, so a sampler comparison over many seeds takes seconds. Torch-free.
"""

from __future__ import annotations

from nasga.bench.table import (
    BENCH_STAGES, DEFAULT_TABLE, BenchTable, TableSpread, canonical_genomes, table_path,
)

__all__ = ["BENCH_STAGES", "DEFAULT_TABLE", "BenchTable", "TableSpread", "canonical_genomes",
           "table_path"]
