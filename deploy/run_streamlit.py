"""`streamlit run` with the heavy imports done before the first visitor (deploy/serve.py uses it).

torch, plotly and explorer take seconds to import; done here, the first page a visitor opens only
runs its script. With EXPLORER_GC_FREEZE=1 the objects that exist after these imports (~400k, torch's)
are moved out of the garbage collector's reach (gc.freeze), so a full collection stops scanning
them. Usage: python deploy/run_streamlit.py run streamlit_app.py [streamlit options]
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

if os.environ.get("EXPLORER_GC_FREEZE") == "1":
    gc.collect()
    gc.freeze()

from streamlit.web import cli  # noqa: E402

if __name__ == "__main__":
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())
