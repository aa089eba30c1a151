"""The report of tiny real runs: one file, every figure, artifacts, and it opens in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import optuna
import pytest
from optuna.artifacts import FileSystemArtifactStore

from nasga.cli import main
from nasga.search.config import validate
from nasga.results.report import TITLES, write_report
from nasga.results.report import artifacts as art
from nasga.results.report import data as D
from nasga.results.report.drawing import stages_drawing, to_svg, unet_drawing
from nasga.search.run import open_search, optimize
from nasga.spaces import GeneticCNNSpace, UNetSpace
from nasga.storages.storage import CONFIG_ATTR, artifact_dir
from tests.chromium import run_chromium

optuna.logging.set_verbosity(optuna.logging.WARNING)

GCNN_FIGURES = ["fig-table", "fig-generations", "fig-lineage", "fig-stages", "fig-curves",
                "fig-rungs", "fig-optuna-history", "fig-optuna-importances"]
UNET_FIGURES = ["fig-table", "fig-generations", "fig-lineage", "fig-loss-macs",
                "fig-architecture", "fig-samples", "fig-curves", "fig-rungs",
                "fig-optuna-history", "fig-optuna-importances"]


def _run(tmp: Path, name: str, raw: dict) -> str:
    cfg = validate({"study": {"name": name, "seed": 0, **raw.pop("study")}, **raw})
    url = f"sqlite:///{tmp / (name + '.db')}"
    optimize(open_search(cfg, storage_url=url), progress=False, log=lambda s: None)
    return url


@pytest.fixture(scope="module")
def gcnn_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Genetic CNN on a few hundred digits: 1 epoch, population 3, generations 0..1."""
    return _run(tmp_path_factory.mktemp("gcnn"), "gcnn", {
        "study": {"task": "genetic-cnn"}, "space": {"stages": [3, 4]},
        "strategy": {"population": 3, "generations": 1},
        "task": {"epochs": 1, "max_train": 200}})


@pytest.fixture(scope="module")
def unet_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """U-Net depth 4, channels (8, 16, 32), 32×32 photos: 1 epoch, 16 train / 8 val images."""
    return _run(tmp_path_factory.mktemp("unet"), "unet", {
        "study": {"task": "unet"}, "space": {"depth": 4, "channels": [8, 16, 32]},
        "strategy": {"population": 3, "generations": 1},
        "task": {"epochs": 1, "max_train": 16, "max_val": 8, "image_size": 32}})


@pytest.fixture(scope="module")
def gcnn_report(gcnn_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(gcnn_url, "gcnn", tmp_path_factory.mktemp("gout") / "report.html")


@pytest.fixture(scope="module")
def unet_report(unet_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(unet_url, "unet", tmp_path_factory.mktemp("uout") / "report.html")


def _figure_ids(text: str) -> set[str]:
    return set(re.findall(r'<div id="(fig-[a-z-]+)" class="plotly-graph-div"', text))


def _has_title(title: str, text: str) -> bool:
    """Titles live in plotly's JSON: non-ASCII and ``/`` are ``\\u`` escapes there."""
    return json.dumps(title)[1:-1].replace("/", "\\u002f") in text


def _check_self_contained(path: Path, figures: list[str]) -> str:
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # one file, nothing else
    text = path.read_text(encoding="utf-8")
    assert text.count("plotly.js v") == 1  # plotly.js inlined once
    assert not re.search(r"<script[^>]+src=", text)  # nothing fetched from the network
    assert not re.search(r"<(link|img)[^>]+(href|src)=\"https?:", text)
    assert _figure_ids(text) == set(figures)
    assert text.count("Plotly.newPlot(") == len(figures)
    return text


def test_gcnn_report_has_every_figure(gcnn_report: Path) -> None:
    text = _check_self_contained(gcnn_report, GCNN_FIGURES)
    for key in ("table", "generations", "lineage", "stages"):
        assert _has_title(TITLES[key], text), key
    assert "Max %" in text and "Best network structure" in text  # Table 1's columns
    assert 'id="fig-samples-note"' in text  # classification saves no sample grid: a note
    assert "fig-loss-macs" not in text and "fig-architecture" not in text


def test_unet_report_has_every_figure(unet_report: Path) -> None:
    text = _check_self_contained(unet_report, UNET_FIGURES)
    for key in ("table", "generations", "lineage", "loss_macs", "unet", "samples"):
        assert _has_title(TITLES[key], text), key
    assert "data:image/png;base64," in text  # the sample grid, embedded
    assert "pix2pix reference" in text and "Pareto front" in text
    assert "fig-stages" not in text


def _attached(url: str, name: str) -> tuple[optuna.Study, optuna.trial.FrozenTrial, list]:
    study = optuna.load_study(study_name=name, storage=url)
    best = D.best_trial(study)
    return study, best, art.trial_artifacts(study, best)


@pytest.mark.parametrize("which", ["gcnn", "unet"])
def test_best_trial_gets_the_architecture_once(which: str, request: pytest.FixtureRequest,
                                               tmp_path: Path) -> None:
    request.getfixturevalue(f"{which}_report")
    url = request.getfixturevalue(f"{which}_url")
    study, best, before = _attached(url, which)
    svgs = [a for a in before if a.filename == art.ARCHITECTURE_FILE]
    assert len(svgs) == 1 and svgs[0].mimetype == "image/svg+xml"
    store = FileSystemArtifactStore(str(artifact_dir(url)))
    root = ET.fromstring(art.read_artifact(store, svgs[0]))  # well-formed SVG
    assert root.tag.endswith("svg") and best.user_attrs["genome"] in ET.tostring(root).decode()
    write_report(url, which, tmp_path / "again.html")  # idempotent: nothing attached twice
    assert len(_attached(url, which)[2]) == len(before)


def test_unet_grid_found_and_attached_for_a_cached_trial(unet_report: Path, unet_url: str
                                                         ) -> None:
    study = optuna.load_study(study_name="unet", storage=unet_url)
    cached = [t for t in D.complete_trials(study) if t.user_attrs.get("cached")]
    assert cached, "the U-Net run's elite should be answered from the cache"
    trial = cached[0]
    found = art.find_artifact(study, trial, art.GRID_FILE)
    assert found is not None and found.trial != trial.number  # on the trial that trained it
    store = FileSystemArtifactStore(str(artifact_dir(unet_url)))
    png = art.read_artifact(store, found)
    assert png.startswith(b"\x89PNG")
    assert art.attach(study, trial, store, art.GRID_FILE, png) is not None
    assert art.attach(study, trial, store, art.GRID_FILE, png) is None
    assert [a.filename for a in art.trial_artifacts(study, trial)] == [art.GRID_FILE]


def test_dashboard_lists_and_serves_the_attached_artifacts(unet_report: Path, unet_url: str
                                                           ) -> None:
    dashboard = pytest.importorskip("optuna_dashboard")
    from io import BytesIO
    from wsgiref.util import setup_testing_defaults

    study = optuna.load_study(study_name="unet", storage=unet_url)
    best = D.best_trial(study)
    app = dashboard.wsgi(study._storage,
                         artifact_store=FileSystemArtifactStore(str(artifact_dir(unet_url))))

    def get(path: str) -> tuple[str, bytes]:
        env: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": BytesIO()}
        setup_testing_defaults(env)
        status: list[str] = []
        body = b"".join(app(env, lambda s, h, *a: status.append(s)))
        return status[0], body

    status, body = get(f"/api/studies/{study._study_id}")
    assert status.startswith("200")
    trial = next(t for t in json.loads(body)["trials"] if t["number"] == best.number)
    names = {a["filename"]: a["artifact_id"] for a in trial["artifacts"]}
    assert art.ARCHITECTURE_FILE in names and art.GRID_FILE in names
    status, svg = get(f"/artifacts/{study._study_id}/{best._trial_id}/"
                      f"{names[art.ARCHITECTURE_FILE]}")
    assert status.startswith("200") and svg.lstrip().startswith(b"<svg")


def test_report_of_a_study_without_trials(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    study = optuna.create_study(study_name="empty", storage=url, direction="maximize")
    study.set_user_attr(CONFIG_ATTR, {"study": {"name": "empty", "task": "unet"},
                                      "space": {"depth": 4, "channels": [8, 16, 32]}})
    text = write_report(url, "empty", tmp_path / "empty.html").read_text(encoding="utf-8")
    assert _figure_ids(text) == {"fig-optuna-history"}
    assert text.count("No COMPLETE trial yet.") == 2  # the table and the samples
    assert 'id="fig-optuna-importances-note"' in text and 'id="fig-lineage-note"' in text


def test_svg_drawings_are_valid() -> None:
    space = UNetSpace(depth=4, channels=(8, 16, 32))
    best = D.unet_layout(space.parse("32-8-16-8|010"), image_size=32)
    svg = to_svg(unet_drawing(best, D.unet_layout(space.reference_genome())))
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}rect")) == 1 + 16  # background + 2 U-Nets × 8 boxes
    dashed = [e for e in root.findall(f"{ns}line") if e.get("stroke-dasharray")]
    assert len(dashed) == 2  # the best genome's two removed skips
    stages = D.stage_layouts(GeneticCNNSpace((4, 5)).parse("1-00-111|0-00-000-0011"))
    root = ET.fromstring(to_svg(stages_drawing(stages)))
    assert len(root.findall(f"{ns}circle")) == 6 + 7


def test_cli_report(unet_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "--storage", unet_url, "--study-name", "unet", "--out", str(out),
                 "--no-attach"]) == 0
    assert out.is_file() and f"wrote {out}" in capsys.readouterr().out
    assert main(["report", "--storage", unet_url, "--study-name", "nope", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert "study_name: no study named 'nope'" in err and err.count("\n") == 1
    assert main(["report", "--storage", unet_url, "--study-name", "unet", "--out",
                 str(tmp_path / "missing" / "r.html")]) == 2
    assert "out: folder" in capsys.readouterr().err


# --- headless Chromium -----------------------------------------------------------------------

@pytest.mark.parametrize("which", ["gcnn", "unet"])
def test_report_opens_in_chromium(which: str, chromium: str, request: pytest.FixtureRequest,
                                  tmp_path: Path) -> None:
    from PIL import Image

    report: Path = request.getfixturevalue(f"{which}_report")
    n_figures = len(GCNN_FIGURES if which == "gcnn" else UNET_FIGURES)
    dom = run_chromium(chromium, tmp_path / "p1", "--virtual-time-budget=10000", "--dump-dom",
                       report.resolve().as_uri())
    html = dom.stdout.decode("utf-8", "replace")
    assert dom.returncode == 0, dom.stderr.decode()[-2000:]
    body = re.search(r"<body([^>]*)>", html)
    assert body is not None, html[:500]
    errors = re.search(r'<pre id="nasga-js-errors">(.*?)</pre>', html, re.S)
    assert errors is not None and errors.group(1).strip() == "", errors and errors.group(1)
    assert 'data-status="ok"' in body.group(1), body.group(1)
    plots = int(re.search(r'data-plots="(\d+)"', body.group(1)).group(1))
    assert plots >= n_figures  # every figure drew at least one plotly SVG layer
    assert html.count('class="plot-container plotly"') == n_figures
    png = tmp_path / "shot.png"
    shot = run_chromium(chromium, tmp_path / "p2", f"--screenshot={png}",
                        "--window-size=1200,2000", report.resolve().as_uri())
    assert shot.returncode == 0 and png.is_file(), shot.stderr.decode()[-2000:]
    with Image.open(png) as img:
        rgb = img.convert("RGB")
        assert rgb.size == (1200, 2000)
        assert len(rgb.getcolors(maxcolors=1 << 24)) > 50  # not one colour: a drawn page
        grey = rgb.convert("L")
        dark = sum(grey.histogram()[:240]) / (rgb.size[0] * rgb.size[1])
        assert dark > 0.03, f"only {dark:.1%} of the screenshot is not white"
    shutil.copy(png, Path(os.environ.get("NASGA_REPORT_SHOTS", tmp_path)) / f"{which}.png")
