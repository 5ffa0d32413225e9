# Local Need Explorer. `make run` serves the app on the bundled data; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SOURCES ?= ../shared/data

.PHONY: run test install install-test bundle bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(PY) -m streamlit run app.py

# Two workers (CI has 2 cores): a test file's tests on one worker (its module fixtures, e.g. a test server, are
# set up once), the three browser files one after another on one worker (tests/conftest.py); TEST_WORKERS=0 runs
# everything in this process.
TEST_WORKERS ?= 2
test: install-test
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)

# Rebuild data/ from the raw sources (needs ../shared/data); the result is committed.
bundle: install
	$(PY) -m civicdata build --sources $(SOURCES) --out data

bench: install
	for f in bench/*.py; do case $$f in bench/bare_app.py|bench/nav_app.py|bench/renderer_app.py) ;; *) $(PY) $$f || exit 1;; esac; done

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
