# One entry point for people and CI. `make test` installs what the tests need, then runs them all.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install test-deps prometheus test lint golden bench render check clean

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	$(PIP) install --quiet -e .

test-deps: $(PY)
	$(PIP) install --quiet -e '.[test]'

# promtool and the Prometheus server come from Debian's package, installed when missing.
prometheus:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@promtool --version 2>&1 | head -1

lint: test-deps
	$(VENV)/bin/ruff check obsgen tests benchmarks

test: test-deps prometheus lint
	$(PY) -m pytest -n 2 -q

golden: test-deps
	$(PY) -m pytest -q --update-golden

render: install
	$(VENV)/bin/obsgen render specs/shop.yaml

check: install
	$(VENV)/bin/obsgen render --check specs/shop.yaml

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
