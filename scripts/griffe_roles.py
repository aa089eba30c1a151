"""A griffe extension (mkdocs.yml, mkdocstrings ``extensions``): the Sphinx roles nasga's
docstrings use (``:class:`~nasga.x.Y```, ``:func:`name```, ...) become mkdocstrings
cross-references, so the API reference links them and the strict build checks them.

A role's name is resolved in the scope of the object whose docstring holds it (its module's
imports and members, then its parents'), as Sphinx does. Names in the packages the reference
documents become links, which mkdocs-autorefs must resolve; other names (``optuna.Study``,
``nasga.cli``) stay inline code. A ``nasga`` name that resolves to nothing is a warning, which
fails the strict build.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from griffe import Extension, NameResolutionError, Object

ROLE = re.compile(r":(?:class|mod|func|meth|attr|data|exc|obj):`(~?)([\w.]+)(\(\))?`")
DOCUMENTED = ("nasga.samplers", "nasga.spaces", "nasga.tasks", "nasga.evaluation",
              "nasga.search", "nasga.results", "nasga.storages")
"""The packages the API reference renders (docs/reference/*.md): links to them are checked."""
log = logging.getLogger("mkdocs.plugins.nasga.roles")


def _resolve(obj: Object, name: str) -> str | None:
    """The full path of ``name`` seen from ``obj``, or ``None``."""
    if name.startswith("nasga."):
        return name
    head, _, rest = name.partition(".")
    if obj.is_class and head in obj.all_members:  # inherited members too
        return f"{obj.all_members[head].path}.{rest}" if rest else f"{obj.path}.{head}"
    try:
        path = obj.resolve(head)
    except NameResolutionError:
        return None
    return f"{path}.{rest}" if rest else path


def _exists(obj: Object, path: str) -> bool:
    root = obj.package
    try:
        root[path.removeprefix(root.path + ".")] if path != root.path else root
    except (KeyError, Exception):  # griffe raises KeyError or an alias resolution error
        return False
    return True


class SphinxRoles(Extension):
    """Rewrite the roles of every docstring once the object tree is complete."""

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is None or ":" not in obj.docstring.value:
            return

        def link(m: re.Match[str]) -> str:
            tilde, name, call = m.group(1), m.group(2), m.group(3) or ""
            title = f"`{(name.rsplit('.', 1)[-1] if tilde else name)}{call}`"
            path = _resolve(obj, name)
            if path is None and "." in name and not name.startswith("nasga."):
                return title  # another library's name (optuna.storages...): not linked
            if path is None:
                log.warning("%s: docstring names %s, which does not resolve", obj.path, name)
                return title
            if not path.startswith("nasga"):
                return title
            if not _exists(obj, path):
                log.warning("%s: docstring names %s, which is not in the package", obj.path, path)
                return title
            if not path.startswith(DOCUMENTED) or "._" in path:
                return title  # not rendered: another package, or a private name
            return f"[{title}][{path}]"

        obj.docstring.value = ROLE.sub(link, obj.docstring.value)
