# One entry point for people and CI. `make test` installs what the tests need, then runs them all.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install test-deps prometheus tools tools-regen js-tools test lint golden bench render check clean

# The real tools, built from their Go modules into the ignored .tools/ folder, each only when missing or of
# another version (the version is part of the path; .tools/bin/ links the pinned one). See tools/README.md.
OTELCOL_VERSION := $(shell sed -n 's/^  version: //p' tools/otelcol/builder-config.yaml)
PROMETHEUS_MODULE := $(shell sed -n 's/^require github.com\/prometheus\/prometheus //p' tools/prometheus/go.mod)
TOOLS := .tools
OTELCOL := $(TOOLS)/otelcol-$(OTELCOL_VERSION)/otelcol
PROM_DIR := $(TOOLS)/prometheus-$(PROMETHEUS_MODULE)
# v0.3XX.Y of the module is Prometheus 3.XX.Y; stamped into the binaries as `make` of Prometheus itself does.
PROMETHEUS_VERSION := $(shell echo $(PROMETHEUS_MODULE) | sed -E 's/^v0\.3([0-9]{2})\.([0-9]+)$$/3.\1.\2/; s/^3\.0([0-9])/3.\1/')
# compose-go's version names the composecheck build (tools/composecheck: loads a rendered docker-compose.yaml).
COMPOSE_GO_VERSION := $(shell sed -n 's/^require github.com\/compose-spec\/compose-go\/v2 //p' tools/composecheck/go.mod)
COMPOSECHECK := $(TOOLS)/composecheck-$(COMPOSE_GO_VERSION)/composecheck
GO_BUILD := go build -trimpath -ldflags='-s -w'
PROM_VERSION_FLAGS := -X github.com/prometheus/common/version.Version=$(PROMETHEUS_VERSION) \
  -X github.com/prometheus/common/version.Revision=$(PROMETHEUS_MODULE) -X github.com/prometheus/common/version.Branch=module

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	$(PIP) install --quiet -e .

test-deps: $(PY)
	$(PIP) install --quiet -e '.[test]'

# Debian's Prometheus 2.42 (promtool and server), to check a 2.x-pinned render by hand. The suite does not use it:
# it runs Prometheus 3 from `make tools`, and no test spec pins 2.x (2.x output is covered by byte tests).
prometheus:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@promtool --version 2>&1 | head -1

$(OTELCOL): tools/otelcol/go.mod tools/otelcol/go.sum $(wildcard tools/otelcol/*.go)
	@echo "building the OpenTelemetry Collector $(OTELCOL_VERSION) (cold: several minutes)"
	mkdir -p $(dir $@)
	cd tools/otelcol && $(GO_BUILD) -o $(CURDIR)/$@.tmp . && mv $(CURDIR)/$@.tmp $(CURDIR)/$@

$(PROM_DIR)/prometheus $(PROM_DIR)/promtool &: tools/prometheus/go.mod tools/prometheus/go.sum
	@echo "building Prometheus $(PROMETHEUS_VERSION) ($(PROMETHEUS_MODULE)) and promtool (cold: several minutes)"
	mkdir -p $(PROM_DIR).tmp
	cd tools/prometheus && go build -trimpath -ldflags='-s -w $(PROM_VERSION_FLAGS)' -o $(CURDIR)/$(PROM_DIR).tmp/ \
	  github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool
	rm -rf $(PROM_DIR) && mv $(PROM_DIR).tmp $(PROM_DIR)

# Small (~10 s cold, a few MB of modules): compose-go and the checks around it.
$(COMPOSECHECK): tools/composecheck/go.mod tools/composecheck/go.sum tools/composecheck/main.go
	mkdir -p $(dir $@)
	cd tools/composecheck && $(GO_BUILD) -o $(CURDIR)/$@.tmp . && mv $(CURDIR)/$@.tmp $(CURDIR)/$@

tools: $(OTELCOL) $(PROM_DIR)/prometheus $(PROM_DIR)/promtool $(COMPOSECHECK)
	@mkdir -p $(TOOLS)/bin
	@ln -sfn ../composecheck-$(COMPOSE_GO_VERSION)/composecheck $(TOOLS)/bin/composecheck
	@ln -sfn ../otelcol-$(OTELCOL_VERSION)/otelcol $(TOOLS)/bin/otelcol
	@ln -sfn ../prometheus-$(PROMETHEUS_MODULE)/prometheus $(TOOLS)/bin/prometheus
	@ln -sfn ../prometheus-$(PROMETHEUS_MODULE)/promtool $(TOOLS)/bin/promtool
	@$(TOOLS)/bin/otelcol --version
	@$(TOOLS)/bin/promtool --version | head -1

# Regenerate tools/otelcol from builder-config.yaml with the Collector Builder of the same release.
tools-regen:
	GOBIN=$(CURDIR)/$(TOOLS)/builder-$(OTELCOL_VERSION) go install go.opentelemetry.io/collector/cmd/builder@v$(OTELCOL_VERSION)
	cd tools/otelcol && $(CURDIR)/$(TOOLS)/builder-$(OTELCOL_VERSION)/builder --config builder-config.yaml --skip-compilation

# Grafana's Apache-2.0 npm packages (dashboard schema types, LogQL and TraceQL grammars) for the tests, installed
# from the committed lock only when node_modules is missing or the lock changed. See tools/js/README.md.
JS_STAMP := tools/js/node_modules/.obsgen-npm-ci

$(JS_STAMP): tools/js/package.json tools/js/package-lock.json
	cd tools/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

js-tools: $(JS_STAMP)

lint: test-deps
	$(VENV)/bin/ruff check obsgen tests benchmarks

test: test-deps tools js-tools lint
	$(PY) -m pytest -n 2 --dist loadgroup -q

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
