"""The study files shipped with nasga (``studies/*.toml``): their names and text, from the
source tree of a checkout or an editable install, else from an installed wheel's
``nasga/studies/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

STUDIES_DIR = Path("studies")
# The shipped study files: ``studies/`` of the source tree (a checkout, an editable install); a
# wheel installs the same files as ``nasga/studies/`` (setup.cfg maps the folder into the package).
_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout (nasga/search/studies.py)
_SOURCE_STUDIES = _SOURCE_ROOT / STUDIES_DIR if (_SOURCE_ROOT / "setup.cfg").is_file() else None


def shipped_studies() -> list[str]:
    """Names of the study files shipped with nasga (``studies/*.toml``), sorted."""
    names = set()
    if _SOURCE_STUDIES is not None and _SOURCE_STUDIES.is_dir():
        names.update(p.stem for p in _SOURCE_STUDIES.glob("*.toml"))
    folder = _packaged_studies()
    if folder is not None:
        names.update(p.name[: -len(".toml")] for p in folder.iterdir()
                     if p.name.endswith(".toml"))
    return sorted(names)


def _packaged_studies() -> Any:
    """The ``nasga/studies`` folder of an installed package (a Traversable), or None."""
    from importlib import resources

    try:
        folder = resources.files("nasga") / "studies"
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        return None
    return folder if folder.is_dir() else None


def shipped_text(name: str) -> str | None:
    """The TOML text of the shipped study ``name``: the source tree first (a checkout or an
    editable install), then the installed package's copy (a wheel)."""
    if _SOURCE_STUDIES is not None and (_SOURCE_STUDIES / f"{name}.toml").is_file():
        return (_SOURCE_STUDIES / f"{name}.toml").read_text(encoding="utf-8")
    folder = _packaged_studies()
    if folder is not None and (folder / f"{name}.toml").is_file():
        return (folder / f"{name}.toml").read_text(encoding="utf-8")
    return None


def shipped_name(path: Path) -> str | None:
    """The shipped study a missing path names: ``NAME``, ``NAME.toml`` or ``studies/NAME.toml``."""
    if path.parent not in (Path("."), STUDIES_DIR):
        return None
    name = path.name[: -len(".toml")] if path.name.endswith(".toml") else path.name
    return name if name in shipped_studies() else None


__all__ = ["STUDIES_DIR", "shipped_name", "shipped_studies", "shipped_text"]
