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

# The tests run in two steps. First everything but the `alone` tests on TEST_WORKERS pytest-xdist workers (default
# 2, CI's cores): a test file's tests on one worker (its module fixtures, e.g. a test server, are set up once),
# the three browser files one after another on one worker while the other takes the rest (the scheduler in
# tests/conftest.py).
# Then the `alone` tests, with the machine to themselves: they assert a time a person would notice (the
# projector showing a phone's points within 3 s) or load the server with 20 sessions at once.
# TEST_WORKERS=0 runs everything in one process, in file order. Both steps always run; either failing fails.
TEST_WORKERS ?= 2
test: install-test
ifeq ($(TEST_WORKERS),0)
	$(PY) -m pytest
else
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not alone"; a=$$?; \
	$(PY) -m pytest -m alone; b=$$?; \
	test $$a -eq 0 -a $$b -eq 0
endif

# Rebuild data/ from the raw sources (needs ../shared/data); the result is committed.
bundle: install
	$(PY) -m civicdata build --sources $(SOURCES) --out data

bench: install
	for f in bench/*.py; do case $$f in bench/bare_app.py|bench/nav_app.py|bench/renderer_app.py|bench/widgets.py) ;; *) $(PY) $$f || exit 1;; esac; done

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
