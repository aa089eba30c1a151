"""Bad flags of ``train-best``, ``worker`` and ``compare``: one line, exit 2, nothing written
(found by fuzzing the CLI; the run flags are in ``test_errors.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasga.cli import main
from tests.helpers import one_line_error


@pytest.mark.parametrize("flag,value,fragment", [
    ("--seed", "-1", "seed: must be an integer >= 0 and <= 4,294,967,295"),
    ("--seed", str(2**40), "seed: must be an integer >= 0 and <= 4,294,967,295"),
    ("--epochs", "0", "epochs: must be an integer >= 1 and <= 100,000"),
    ("--epochs", str(10**12), "epochs: must be an integer >= 1 and <= 100,000"),
])
def test_train_best_checks_its_numbers_before_reading_the_study(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str,
        fragment: str) -> None:
    db = tmp_path / "none.db"  # no study: the flag is refused before the storage is opened
    line, _ = one_line_error(main, ["train-best", "--storage", f"sqlite:///{db}",
                                    "--study-name", "s", "--out", str(tmp_path / "best"),
                                    flag, value], capsys)
    assert fragment in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_worker_refuses_sqlite_for_several_processes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    line, _ = one_line_error(main, ["worker", "--storage", f"sqlite:///{db}", "--study-name", "s",
                                    "--workers", "2"], capsys)
    assert "storage: SQLite is for one process; --workers 2 needs a journal file" in line, line
    assert not db.exists()


def test_compare_refuses_an_empty_prefix(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    line, _ = one_line_error(main, ["compare", "--samplers", "random", "--budget", "2",
                                    "--seeds", "1", "--prefix", " ", "--out", str(out)], capsys)
    assert "prefix: must be a non-empty study-name prefix, got ' '" in line, line
    assert not out.exists()
