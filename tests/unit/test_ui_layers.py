"""The UI layer's shape (issue #25): ``pages/`` holds the page files only, what they share is the
package ``pages/ui`` with no import cycle among its modules, only ``pages.ui.streamlit_internals``
touches Streamlit's private parts, and every page reads as wiring (no file over 300 lines).

Imports are read from each file's syntax tree (``tests/unit/test_layout.py``'s reader), so an
import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.test_layout import imported_modules

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "pages"
UI = PAGES / "ui"
# Streamlit's public API is `streamlit` itself (st.*), `streamlit.testing`, `streamlit.errors` and
# `streamlit.components.v1`, and `streamlit.web.cli`, the `streamlit` command's own entry point
# (deploy/run_streamlit.py starts the server through it); anything else is an internal.
PUBLIC_STREAMLIT = ("streamlit", "streamlit.errors", "streamlit.testing", "streamlit.components.v1",
                    "streamlit.web.cli")
INTERNALS = "pages.ui.streamlit_internals"
PAGE_FILES = {"compare.py", "densenet.py", "explain.py", "glossary.py", "inception.py", "learn.py", "practice.py",
              "train.py"}


def ui_imports() -> dict[str, set[str]]:
    """Each pages.ui module -> the pages.ui modules it imports."""
    graph = {}
    for path in sorted(UI.glob("*.py")):
        name = "pages.ui" if path.name == "__init__.py" else f"pages.ui.{path.stem}"
        found = imported_modules(path.read_text(), name, path.name == "__init__.py")
        graph[name] = {m for m in found if m.startswith("pages.ui.") and m.count(".") == 2 and
                       (UI / f"{m.rsplit('.', 1)[1]}.py").exists()} - {name}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of the graph as a path, or []."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_pages_holds_the_page_files_only():
    assert {p.name for p in PAGES.glob("*.py")} - {"__init__.py"} == PAGE_FILES
    assert PAGES.joinpath("__init__.py").read_text().count("\n") <= 2  # a docstring, no helpers


def test_no_import_cycle_among_the_ui_modules():
    graph = ui_imports()
    assert {"pages.ui.page", "pages.ui.settings", "pages.ui.state", "pages.ui.i18n", "pages.ui.jobs",
            "pages.ui.charts", "pages.ui.build", "pages.ui.layout"} <= set(graph)
    assert "pages.ui.settings" in graph["pages.ui.page"] or "pages.ui.state" in graph["pages.ui.page"]
    assert cycle(graph) == []


def _streamlit_private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]  # from streamlit import dataframe_util
        found += [n for n in names if n.startswith("streamlit.") and not n.startswith(PUBLIC_STREAMLIT[1:])]
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                and isinstance(node.value, ast.Name) and node.value.id == "st":
            found.append(f"st.{node.attr}")
    return found


def test_only_the_internals_module_touches_streamlit_internals():
    files = sorted(PAGES.rglob("*.py")) + [ROOT / "streamlit_app.py", ROOT / "deploy" / "run_streamlit.py"]
    uses = {str(p.relative_to(ROOT)): _streamlit_private_uses(p) for p in files if p.stem != "streamlit_internals"}
    assert {k: v for k, v in uses.items() if v} == {}
    assert _streamlit_private_uses(UI / "streamlit_internals.py")  # the check sees them where they are


def test_every_page_reads_as_wiring_in_at_most_300_lines():
    lengths = {p.name: p.read_text().count("\n") for p in PAGES.glob("*.py")}
    assert {name: n for name, n in lengths.items() if n > 300} == {}
