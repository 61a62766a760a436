"""The tests in tiers: ``unit/`` (the core, the CLI, jobs), ``app/`` (pages under Streamlit's
AppTest) and ``e2e/`` (a real server: Chromium through Playwright, nginx, replicas, start-up).

Each tier's shared fixtures are in its own conftest.py; plain helpers shared across modules are in
``tests/helpers/`` (no test module imports another). Tests over ~2 s on a 2-core machine are marked
``slow`` (every test of ``e2e/`` is, by its conftest): ``make test-fast`` (``pytest -m "not slow"``)
runs the rest between edits, ``make test`` runs them all. Browser tests are marked ``browser`` and
skipped, with the reason, when Chromium or Playwright is missing."""
