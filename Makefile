# `make run` serves the app; `make test` runs every test. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run streamlit_app.py --server.address 127.0.0.1 --server.port 8501

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		echo "NOTE: Chromium not found: the browser end-to-end tests will be SKIPPED (apt-get install chromium)"
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/profile_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
