"""mkdocs hooks of the documentation site (mkdocs.yml ``hooks:``).

* plotly.js is served from the site itself, copied from the installed ``plotly`` package (the
  site works offline; no CDN).
* ``<!-- plotly: data/NAME.json -->`` in a page becomes that figure (a JSON file written by
  ``scripts/bench_compare.py --figure``), drawn by ``assets/javascripts/figures.js``, with a
  caption naming the command, the machine and the date stored in the file. A marker whose file
  is missing or lacks them fails the build.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

PLOTLY_JS = "assets/javascripts/plotly.min.js"
MARKER = re.compile(r"<!--\s*plotly:\s*(\S+?)\s*-->")


def on_files(files: Files, config: Any) -> Files:
    """Add plotly.min.js from the plotly package as a site file."""
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not source.is_file():
        raise PluginError(f"plotly.js not found at {source} (pip install -e '.[docs]')")
    files.append(File.generated(config, PLOTLY_JS, abs_src_path=str(source)))
    return files


def _figure(name: str, page: Any, files: Files) -> str:
    file = files.get_file_from_path(name)
    if file is None:
        raise PluginError(f"{page.file.src_uri}: plotly marker: no file docs/{name}")
    path = Path(file.abs_src_path)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        command, machine, date, figure = (saved[k] for k in ("command", "machine", "date",
                                                                 "figure"))
    except (OSError, ValueError, KeyError) as exc:
        raise PluginError(f"plotly marker {name}: {type(exc).__name__}: {exc}") from exc
    target = "plotly-" + re.sub(r"\W+", "-", Path(name).stem)
    data = json.dumps(figure).replace("</", "<\\/")
    return (f'<figure class="nasga-plotly"><div id="{target}" class="nasga-plotly-figure">'
            f'</div><script type="application/json" class="nasga-plotly-data" '
            f'data-target="{target}">{data}</script><figcaption>Produced by '
            f"<code>{html.escape(command)}</code> on {html.escape(machine)}, {html.escape(date)}"
            f' (<a href="{html.escape(get_relative_url(file.url, page.url))}">data</a>).'
            f"</figcaption></figure>")


def on_page_content(content: str, page: Any, config: Any, files: Files) -> str:
    """Replace each plotly marker with its figure."""
    return MARKER.sub(lambda m: _figure(m.group(1), page, files), content)
