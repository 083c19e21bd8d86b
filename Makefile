# Sanduq: the README's commands. Every target installs what it needs first (tools/setup.sh is idempotent).
PY := .venv/bin/python
OUT := out

.PHONY: all venv demo test lint typecheck unit kiosk bench clean package pki

all: test

venv:
	@bash tools/setup.sh

## The main job on the embedded defaults (SQLite, virtual cards, no display needed).
demo: venv
	@$(PY) -m tools.demo

## The whole test suite: lint, types, then every test (unit, property, integration, ui, e2e).
test: venv lint
	@$(PY) -m pytest -q -p no:cacheprovider

lint: venv
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy .
	@.venv/bin/lint-imports

## The interactive kiosk with the demo election (needs a display; see README).
kiosk: venv
	@$(PY) run_kiosk.py --demo

## Every benchmark in bench/, then one report of medians and ratios.
bench: venv
	@$(PY) -m bench

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
