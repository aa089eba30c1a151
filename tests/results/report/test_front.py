"""The report of a multi-objective study (issue 29): the front over generations, the front's
table, each member's architecture (attached to its trial) and a note where it has no samples."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from nasga.results.best import pareto_front
from nasga.results.report import artifacts as art
from nasga.results.report import write_report
from nasga.results.report.front import (
    MEMBER_ARCHITECTURE_FILE, MEMBERS_SHOWN, front_figure, generation_fronts,
)
from nasga.results.report.html import build_report
from nasga.search.config import validate
from nasga.search.run import open_search, optimize

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def mo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    cfg = validate({"study": {"name": "mo", "task": "genetic-cnn", "seed": 1,
                              "objectives": ["score", "macs"]},
                    "space": {"stages": [3, 4]},
                    "strategy": {"population": 8, "generations": 2, "max_evaluations": 1},
                    "task": {"task": "synthetic", "noise": 0.05}})
    url = f"sqlite:///{tmp_path_factory.mktemp('mo') / 'mo.db'}"
    optimize(open_search(cfg, storage_url=url), progress=False, log=lambda s: None)
    return url


def test_front_figure_draws_each_generation_and_the_final_front(mo_url: str) -> None:
    study = optuna.load_study(study_name="mo", storage=mo_url)
    front = pareto_front(study)
    fronts = generation_fronts(study)
    assert [g for g, _ in fronts] == [0, 1, 2]
    assert {m.key for m in fronts[-1][1]} == {m.key for m in front}  # no confirmations here
    first = {m.key for m in fronts[0][1]}
    gen0 = {t.user_attrs["key"] for t in study.trials if t.user_attrs["ga_generation"] == 0}
    assert first <= gen0
    fig = front_figure(study)
    final = [t for t in fig.data if t.name.startswith("Pareto front")]
    assert len(final) == 1 and sorted(zip(final[0].y, final[0].x)) == sorted(
        m.values for m in front)
    assert sum(t.name.startswith("front after generation") for t in fig.data) == 3
    assert len(fig.data[0].x) == len({t.user_attrs["key"] for t in study.trials})
    assert fig.layout.xaxis.title.text == "macs (minimize)"


def test_report_draws_every_member_and_attaches_its_architecture(
        mo_url: str, tmp_path: Path) -> None:
    study = optuna.load_study(study_name="mo", storage=mo_url)
    front = pareto_front(study)
    report = build_report(study)
    ids = [s.id for s in report.sections]
    drawn = min(len(front), MEMBERS_SHOWN)
    assert ids[:5] == ["fig-table", "fig-generations", "fig-front", "fig-front-table",
                       "fig-lineage"] and ids[-1] == "fig-optuna-pareto"
    for i in range(1, drawn + 1):
        arch = report.sections[ids.index(f"fig-member-{i}")]
        assert arch.figure is not None and front[i - 1].genome in arch.heading
        samples = report.sections[ids.index(f"fig-member-{i}-samples")]
        assert samples.figure is None and "has no sample grid" in samples.note
    assert f"fig-member-{drawn + 1}" not in ids
    table = report.sections[ids.index("fig-front-table")].figure.data[0]
    assert list(table.cells.values[1]) == [m.genome for m in front]
    assert dict(report.summary)["Pareto front"].startswith(f"{len(front)} genomes, 0 confirmed")

    lines: list[str] = []
    out = write_report(mo_url, "mo", tmp_path / "report.html", log=lines.append)
    assert 'id="section-fig-front"' in out.read_text()
    assert sorted(lines) == sorted(f"attached {MEMBER_ARCHITECTURE_FILE} to trial "
                                   f"{m.trial.number}" for m in front[:drawn])
    study = optuna.load_study(study_name="mo", storage=mo_url)
    for m in front[:drawn]:
        assert [a.filename for a in art.trial_artifacts(study, m.trial)] == [
            MEMBER_ARCHITECTURE_FILE]
    again: list[str] = []
    write_report(mo_url, "mo", tmp_path / "again.html", log=again.append)
    assert again == []  # idempotent
