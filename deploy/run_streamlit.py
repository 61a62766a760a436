"""`streamlit run` with the heavy imports done before the first visitor (deploy/serve.py uses it).

torch, plotly, pandas and explorer take seconds to import; done here, the first
page a visitor opens only runs its script. Then the objects that exist after these imports (~420k,
mostly torch's) are moved out of the garbage collector's reach (gc.freeze): Python's own full
collections (one every ~50 slider steps on a Build page) stop scanning them, 0.11 s instead of
1.0 s each, measured under load. EXPLORER_GC_FREEZE=0 leaves them in (benchmarks/load_test.py compares).
Usage: python deploy/run_streamlit.py run streamlit_app.py [streamlit options]
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import plotly.graph_objects  # noqa: E402,F401 - imported for its side effect: loaded once, before any visitor
import torch  # noqa: E402,F401

import explorer  # noqa: E402,F401
import explorer.charts.densenet  # noqa: E402,F401
import explorer.charts.inception  # noqa: E402,F401
import pandas  # noqa: E402,F401 - Streamlit imports it on a page's first table: 0.7 s of the first visitor's run
import streamlit.delta_generator  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from explorer.i18n import translator  # noqa: E402

translator("ja")  # the Japanese catalog, compiled once per process
# The app declares its pages with st.navigation: without this, Streamlit treats the pages/ folder as
# a v1 page list until a script has called st.navigation, and a fresh replica's first visitor gets
# that list and a second run (pages._route_through_navigation).
PagesManager.uses_pages_directory = False
# Streamlit checks once per process, on the first element any visitor's page draws, whether it runs
# in a REPL (to print a warning): inspect.stack() over every loaded module, 0.5 s of that visitor's
# run. A replica is never a REPL.
streamlit.delta_generator._use_warning_has_been_displayed = True
# Streamlit polls each config.toml five times a second to reload it live; a replica reads its
# config once (a change means a restart), so it skips those wake-ups of its single core.
import streamlit.web.bootstrap  # noqa: E402

streamlit.web.bootstrap._install_config_watchers = lambda flag_options: None

if os.environ.get("EXPLORER_GC_FREEZE", "1") != "0":
    gc.collect()
    gc.freeze()

from streamlit.web import cli  # noqa: E402

if __name__ == "__main__":
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())
