# Chorus: `make up` starts everything, `make test` runs the tests. Both set up what they need.
SHELL := /bin/bash
PY := .venv/bin/python
UV := .tools/bin/uv
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: up down status logs test eval bench install

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

test: install
	$(PY) -m runtime prepare
	$(PY) -m pytest

eval: install
	@$(PY) -m runtime prepare
	@$(PY) -m evals

bench: install
	@$(PY) -m runtime prepare
	@$(PY) -m bench
