"""The one sampler registry from the command line (issue 26): every name in ``nasga run --help``
and ``nasga compare --help``, a compare preset run as a study and resumed as it, a bad name's
one line."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import optuna
import pytest

from nasga.cli import main
from nasga.samplers.registry import SAMPLER_NAMES, SAMPLERS, STUDY_SAMPLERS
from nasga.storages.storage import CONFIG_ATTR, open_storage
from nasga.evaluation.records import lineage
from tests.helpers import exit_code, one_line_error

optuna.logging.set_verbosity(optuna.logging.WARNING)

BENCH = """
[study]
name = "s"
task = "genetic-cnn"
[space]
stages = [3, 4]
[strategy]
population = 10
generations = 2
max_evaluations = 3
[task]
task = "genetic-cnn-bench"
"""


def _help(command: str, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "5000")  # argparse wraps at hyphens otherwise
    assert exit_code(main, [command, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_run_help_describes_every_study_sampler_and_names_the_others(capsys, monkeypatch) -> None:
    out = _help("run", capsys, monkeypatch)
    for name in STUDY_SAMPLERS:
        assert f"{name}: {SAMPLERS[name].help}" in out, name
    for name in SAMPLER_NAMES:
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", out), name


def test_compare_help_describes_every_registered_sampler(capsys, monkeypatch) -> None:
    out = _help("compare", capsys, monkeypatch)
    for name, entry in SAMPLERS.items():
        assert f"{name}: {entry.help}" in out, name


def test_a_bad_sampler_is_one_line_listing_the_valid_names(tmp_path: Path, capsys,
                                                           monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    line, _ = one_line_error(main, ["run", "--sampler", "aging-intensfy"], capsys)
    assert "--sampler" in line and all(f"'{n}'" in line for n in STUDY_SAMPLERS)
    study = tmp_path / "bad.toml"
    study.write_text(BENCH.replace('name = "s"', 'name = "s"\nsampler = "bogus"'), "utf-8")
    line, _ = one_line_error(main, ["run", "--study", str(study)], capsys)
    assert line.startswith("nasga run: error: study.sampler: must be one of "
                           + ", ".join(STUDY_SAMPLERS) + "; ") and line.endswith("got 'bogus'")
    line, _ = one_line_error(main, ["compare", "--samplers", "ga,bogus", "--out",
                                    str(tmp_path / "cmp")], capsys)
    assert "samplers: must be one of " + ", ".join(SAMPLER_NAMES) + "; got 'bogus'" in line
    assert list(tmp_path.iterdir()) == [study]  # nothing was stored


def _study(url: str) -> optuna.Study:
    return optuna.load_study(study_name="s", storage=open_storage(url, create=False))


def _trials(url: str) -> list[optuna.trial.FrozenTrial]:
    return _study(url).get_trials(deepcopy=False)


def test_run_with_aging_intensify_re_measures_and_resumes_with_it(tmp_path: Path, capsys,
                                                                 monkeypatch) -> None:
    from nasga.samplers.aging.sampler import AgingEvolutionSampler
    from nasga.search.run import load_search

    monkeypatch.chdir(tmp_path)
    study = tmp_path / "bench.toml"
    study.write_text(BENCH, "utf-8")
    url = f"journal:///{tmp_path / 's.log'}"
    argv = ["run", "--study", str(study), "--storage", url, "--quiet"]
    assert main([*argv, "--sampler", "aging-intensify"]) == 0
    assert "sampler aging-intensify," in capsys.readouterr().out
    trials = _trials(url)
    operators = Counter(lineage(t).get("ga_operator") for t in trials)
    assert len(trials) == 10 * 3 and operators["intensify"] > 0, operators
    stored = _study(url).user_attrs[CONFIG_ATTR]
    assert stored["study"]["sampler"] == "aging-intensify"
    sampler = load_search(url, "s").study.sampler  # what `nasga worker` joins with
    assert isinstance(sampler, AgingEvolutionSampler) and sampler._intensify
    assert (sampler.population_size, sampler.sample_size, sampler._rebreed_after) == (10, 5, 3)
    assert main([*argv, "--sampler", "aging-intensify", "--generations", "3"]) == 0
    trials = _trials(url)
    assert len(trials) == 10 * 4 and all(t.state.is_finished() for t in trials)
    assert {lineage(t).get("ga_operator") for t in trials[30:]} <= {"intensify", "mutation",
                                                                       "random"}
    capsys.readouterr()
    assert exit_code(main, argv) == 2  # the file's default sampler, ga, is not the study's
    assert "study.sampler: study 's' was created with 'aging-intensify', got 'ga'" in \
        capsys.readouterr().err


def test_a_study_file_naming_ga_steady_runs_the_steady_state_ga(tmp_path: Path, capsys,
                                                                monkeypatch) -> None:
    from nasga.samplers.ga.sampler import GeneticSampler
    from nasga.search.run import load_search

    monkeypatch.chdir(tmp_path)
    study = tmp_path / "steady.toml"
    study.write_text(BENCH.replace('name = "s"', 'name = "s"\nsampler = "ga-steady"'), "utf-8")
    url = f"journal:///{tmp_path / 's.log'}"
    assert main(["run", "--study", str(study), "--storage", url, "--quiet"]) == 0
    search = load_search(url, "s")
    assert search.is_ga and search.done()
    sampler = search.study.sampler
    assert isinstance(sampler, GeneticSampler) and sampler.mode == "steady-state"
    trained = [t for t in _trials(url) if t.user_attrs.get("trained")]
    assert len(trained) == len(_trials(url)) == 30  # duplicates are re-bred, never proposed
