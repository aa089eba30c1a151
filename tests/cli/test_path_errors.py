"""Files where folders go, a file that is no storage, and a resume conflict: one line, exit 2,
nothing written (a third fuzzing pass, 2026-12-07: each case was a traceback, exit 1, a study
left in storage or a leftover folder before its fix; its one-line cases are in
``test_more_errors.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasga.cli import main
from tests.helpers import COMPARE, TINY, one_line_error


def _synthetic_study(tmp_path: Path) -> tuple[Path, str]:
    """A tiny study file on the synthetic task (no training) and an SQLite URL beside it."""
    study = tmp_path / "s.toml"
    study.write_text(TINY["genetic-cnn"].replace("epochs = 1\nmax_train = 200",
                                                 'task = "synthetic"'))
    return study, f"sqlite:///{tmp_path / 's.db'}"


def test_a_file_where_the_artifacts_folder_goes_refuses_the_run_before_the_study(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "artifacts").write_text("a file")
    line, _ = one_line_error(main, ["run", "--task", "genetic-cnn", "--storage",
                                    "sqlite:///s.db"], capsys)
    assert ("storage: the study's artifacts go in folder 'artifacts': must be a folder (created "
            "if missing), got the file 'artifacts'") in line, line
    assert [p.name for p in tmp_path.iterdir()] == ["artifacts"]  # no s.db


def test_report_refuses_a_file_where_the_artifacts_folder_goes_before_writing_the_page(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study, url = _synthetic_study(tmp_path)
    assert main(["run", "--study", str(study), "--storage", url, "--quiet"]) == 0
    capsys.readouterr()
    artifacts = tmp_path / "artifacts"
    if artifacts.is_dir():
        for f in sorted(artifacts.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
        artifacts.rmdir()
    artifacts.write_text("a file")
    line, _ = one_line_error(main, ["report", "--storage", url, "--study-name", "tiny-gcnn",
                                    "--out", str(tmp_path / "r.html")], capsys)
    assert "storage: the study's artifacts go in folder" in line, line
    assert not (tmp_path / "r.html").exists()


def test_compare_refuses_a_file_that_is_no_storage_before_making_its_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").write_text("not a database\n")
    line, _ = one_line_error(main, [*COMPARE, "--storage", "sqlite:///notes", "--out", "cmp"],
                             capsys)
    assert "storage: cannot open 'sqlite:///notes'" in line, line
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_a_journal_that_cannot_seek_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/proc/self/status").is_file():
        pytest.skip("Linux /proc only")
    line, _ = one_line_error(main, ["export", "--storage", "journal:////proc/self/status",
                                    "--study-name", "s"], capsys)
    assert "storage: cannot read journal '/proc/self/status'" in line, line


def test_resume_names_max_evaluations_0_as_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study, url = _synthetic_study(tmp_path)
    run = ["run", "--study", str(study), "--storage", url, "--quiet", "--max-evaluations"]
    assert main([*run, "1"]) == 0
    capsys.readouterr()
    line, _ = one_line_error(main, [*run, "0"], capsys)
    assert ("strategy.max_evaluations: study 'tiny-gcnn' was created with 1, got 0 (every "
            "reappearance trains)") in line, line
