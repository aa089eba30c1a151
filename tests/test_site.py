"""The documentation site (issue 30): it builds from the checkout in strict mode with the
documented command, and in headless Chromium its getting-started page renders with the
navigation and every benchmark figure draws its plotly SVG."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chromium import run_chromium
from tests.helpers import ROOT

FIGURES = sorted(re.findall(r"<!--\s*plotly:\s*(\S+?)\s*-->",
                            (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m mkdocs build --strict`` (docs/index.md, "Building this site") into a temp
    folder; a warning (broken link, anchor, snippet, docstring reference) fails it."""
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                            str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-4000:]
    return out


def test_the_site_has_every_section_of_the_navigation(site: Path) -> None:
    for page in ["index.html", "tutorials/own-data.html", "tutorials/optuna-samplers.html",
                 "concepts.html", "benchmarks.html", "reproduction.html", "reliability.html",
                 "reference/samplers.html", "faq.html"]:
        assert (site / page).is_file(), page
    samplers = (site / "reference" / "samplers.html").read_text(encoding="utf-8")
    assert "GeneticSampler" in samplers and "AgingEvolutionSampler" in samplers
    assert (site / "assets" / "javascripts" / "plotly.min.js").stat().st_size > 1_000_000


def _dom(chromium: str, page: Path, profile: Path) -> str:
    dom = run_chromium(chromium, profile, "--virtual-time-budget=10000", "--dump-dom",
                       page.as_uri())
    assert dom.returncode == 0, dom.stderr.decode()[-2000:]
    return dom.stdout.decode("utf-8", "replace")


def test_getting_started_renders_with_the_navigation(site: Path, chromium: str,
                                                     tmp_path: Path) -> None:
    html = _dom(chromium, site / "index.html", tmp_path / "p")
    assert re.search(r"<title>\s*nasga\s*</title>", html)  # the home page: the site's name
    assert re.search(r"<h1[^>]*>\s*Getting started", html)
    nav = html[html.index('class="md-nav md-nav--primary"'):]
    for entry in ["Tutorials", "Your own data", "Concepts", "Benchmarks", "API reference", "FAQ"]:
        assert re.search(rf">\s*{re.escape(entry)}\s*<", nav), entry
    assert 'id="the-main-job"' in html


def test_benchmark_figures_draw_in_chromium(site: Path, chromium: str, tmp_path: Path) -> None:
    assert len(FIGURES) >= 2, FIGURES  # one per tabular table with sampler results
    html = _dom(chromium, site / "benchmarks.html", tmp_path / "p")
    for name in FIGURES:
        target = "plotly-" + re.sub(r"\W+", "-", Path(name).stem)
        start = html.index(f'id="{target}"')
        figure = html[start:html.index("</figure>", start)]
        assert "main-svg" in figure and 'class="scatterlayer' in figure, f"{name} did not draw"
        assert "scripts/bench_compare.py" in figure  # the command, inside the drawn figure
