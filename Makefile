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

# serve.py is `streamlit run app.py` that also warms the default page once the server is up
run: install
	$(PY) serve.py

# TEST_WORKERS=N runs the tests on N pytest-xdist workers: a test file's tests on one worker (its module fixtures,
# e.g. a test server, are set up once), the three browser files one after another on one worker
# (tests/conftest.py). The default is one process: on CI's 2 cores two workers took as long (15 min 16 s of
# pytest against about 16 min) and, with both cores busy, a browser test's page load timed out.
TEST_WORKERS ?= 0
test: install-test
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)

# Rebuild data/ from the raw sources (needs ../shared/data); the result is committed.
bundle: install
	$(PY) -m civicdata build --sources $(SOURCES) --out data

bench: install
	for f in bench/*.py; do case $$f in bench/bare_app.py|bench/nav_app.py|bench/renderer_app.py) ;; *) $(PY) $$f || exit 1;; esac; done

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
