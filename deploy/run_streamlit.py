"""The app's one start-up path: `make run` and every replica of `make serve` (deploy/serve.py) start
Streamlit through this file, so the server a visitor meets is the one that was measured.

    python deploy/run_streamlit.py run streamlit_app.py [streamlit options]

Before the server starts (``start_up``): torch, plotly, pandas and explorer are imported (seconds of
imports that the first visitor's page would otherwise wait for), and the objects that exist then
(~420k, mostly torch's) are moved out of the garbage collector's reach (gc.freeze): Python's own full
collections (one every ~50 slider steps on a Build page) stop scanning them, 0.11 s instead of 1.0 s
each, measured under load. EXPLORER_GC_FREEZE=0 leaves them in (benchmarks/load_test.py compares).
It prints one line saying what it did.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def command(*options: str, root: Path = ROOT) -> list[str]:
    """The command line that serves the app in ``root`` (another checkout: a benchmark's 'before')
    with these Streamlit options; the Makefile's `run` target spells out the same line."""
    return [sys.executable, str(Path(root) / "deploy" / "run_streamlit.py"), "run", "streamlit_app.py", *options]


def start_up() -> str:
    """Prepare this process to serve the app; returns the line to log."""
    started = time.perf_counter()
    import pandas  # noqa: F401 - Streamlit imports it on a page's first table: 0.7 s of the first visitor's run
    import plotly.graph_objects  # noqa: F401 - imported for its side effect: loaded once, before any visitor
    import torch  # noqa: F401

    import explorer  # noqa: F401
    import explorer.charts.densenet  # noqa: F401
    import explorer.charts.inception  # noqa: F401
    from explorer import environment
    from explorer.i18n import translator
    from pages.ui import streamlit_internals

    translator("ja")  # the Japanese catalog, compiled once per process
    # Before the first visitor (pages.ui.streamlit_internals says why each is needed): the app's
    # navigation instead of the pages/ folder as a menu, no REPL check, no config.toml polling.
    streamlit_internals.use_navigation_only()
    streamlit_internals.skip_repl_check()
    streamlit_internals.skip_config_watchers()
    # Every upload counts against its session's quota, reserved before its body is read (issue #24):
    # installed before the server exists, so the upload route and the file store it makes are counted.
    from pages.ui.uploads import install as count_uploads

    count_uploads()
    frozen = "not frozen (EXPLORER_GC_FREEZE=0)"
    if environment.gc_freeze():
        gc.collect()
        gc.freeze()
        frozen = f"{gc.get_freeze_count():,} objects frozen"
    return f"explorer start-up: imports done in {time.perf_counter() - started:.1f} s, {frozen}"


def main(argv: list[str]) -> int:
    print(start_up(), flush=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
