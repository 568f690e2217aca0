# Chorus: `make up` starts everything, `make test` runs the tests. Both set up what they need.
SHELL := /bin/bash
PY := .venv/bin/python
UV := .tools/bin/uv
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: up down status logs test test-fast check test-cluster eval bench install index

# uv installs exactly what uv.lock pins; it lives in its own small venv so nothing global changes.
$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python python3
	@touch $@

install: .venv/.synced

up: install
	@$(PY) -m runtime up

down:
	@if [ -x $(PY) ]; then $(PY) -m runtime down; else echo "Chorus is not running."; fi

status: install
	@$(PY) -m runtime status

logs:
	@tail -n 20 -F .run/logs/*.log

# The playground's browser test drives Debian's Chromium (this machine reaches no browser download).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

# The cluster test puts HAProxy in front of each tier's replicas, as a Kubernetes Service would.
HAPROXY := /usr/sbin/haproxy
$(HAPROXY):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy

# Retrieval is judged on a collection nobody here wrote: Python's documentation, as Debian installs it.
PYTHON_DOCS := /usr/share/doc/python3.11/html/index.html
$(PYTHON_DOCS):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3.11-doc

# The whole suite, after the checks: spread over the cores (pytest-xdist), the 15 slowest shown.
test: install $(CHROMIUM) $(HAPROXY) $(PYTHON_DOCS) check
	$(PY) -m runtime prepare
	$(PY) -X faulthandler -m pytest  # a crash prints every thread's stack, even at exit

# The inner loop: the checks, then the tests that start no system.
test-fast: install check
	$(PY) -m runtime prepare
	$(PY) -m pytest -m "not system"

# Lint, format and types; their settings are in pyproject.toml.
check: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# Five simulated hosts (network namespaces, so as root): each tier twice behind HAProxy, Redis with
# failover; a replica of each tier dies, then the Redis master. Also part of `make test`.
test-cluster: install $(HAPROXY)
	$(PY) -m runtime prepare
	$(PY) -X faulthandler -m pytest -n 0 tests/cluster

index: install
	@$(PY) -m runtime index

eval: install $(PYTHON_DOCS)
	@$(PY) -m runtime prepare
	@$(PY) -m evals

bench: install
	@$(PY) -m runtime prepare
	@$(PY) -m bench
