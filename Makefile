# `make run` serves the app; `make serve` serves it as one replica per core behind nginx;
# `make test` runs every test; `make test-fast` those not marked slow (between edits). All create
# .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run serve test test-fast bench clean messages

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# The replicas of `make serve` start the same way (deploy/run_streamlit.py: imports done and gc frozen
# before the first visitor; tests/e2e/test_startup.py checks both lines agree).
run: $(STAMP)
	$(PY) deploy/run_streamlit.py run streamlit_app.py --server.address 127.0.0.1 --server.port 8501

# REPLICAS=N to override one per core; PORT=8080 by default (nginx from Debian: apt-get install nginx)
REPLICAS ?=
PORT ?= 8080
serve: $(STAMP)
	$(PY) deploy/serve.py --port $(PORT) $(if $(REPLICAS),--replicas $(REPLICAS))

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		echo "NOTE: Chromium not found: the browser end-to-end tests will be SKIPPED (apt-get install chromium)"
	$(PY) -m pytest

# Every test not marked slow (no browser, nginx, Ray, training or long property tests): about 2.5 min
# on 2 cores (921 tests), what to run between edits. `make test` (CI) still runs them all.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

bench: $(STAMP)
	$(PY) benchmarks/profile_speed.py

# Extract the messages marked in the code into the template and merge them into every catalog;
# then translate the new entries in explorer/locale/*/LC_MESSAGES/explorer.po (tests fail until then).
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o explorer/locale/explorer.pot explorer pages streamlit_app.py
	$(VENV)/bin/pybabel update -i explorer/locale/explorer.pot -d explorer/locale -D explorer \
		--no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache
