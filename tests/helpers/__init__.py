"""Plain helpers shared by the tests (fixtures live in the conftest.py files):
``apptest`` (pages under Streamlit's AppTest: their text, charts and drawings), ``server`` (the app
served on a loopback port as `make run` serves it), ``browser`` (Chromium through Playwright) and
``cli`` (``python -m explorer`` in a subprocess, optionally under resource limits)."""
