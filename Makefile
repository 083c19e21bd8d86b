# Sanduq: the README's commands. Every target installs what it needs first (tools/setup.sh is idempotent).
PY := .venv/bin/python
OUT := out

.PHONY: all venv demo test lint kiosk bench bench-peer clean fuzz

all: test

venv:
	@bash tools/setup.sh

## The main job on the embedded defaults (SQLite, virtual cards, no display needed).
demo: venv
	@$(PY) -m devtools.demo

## The whole test suite: lint, types, then every test (unit, property, integration, ui, e2e), one pytest-xdist worker
## per core. --dist loadscope keeps each module on one worker, so a module-scoped fixture (an office, a database, a
## fault day) starts once; session fixtures (PostgreSQL, pcscd, test PKIs) start once per worker, each on its own
## ports and temp dirs. SANDUQ_TEST_WORKERS=0 runs serially (see docs/dev/testing.md).
test: venv lint
	@$(PY) -m pytest -q -p no:cacheprovider -n $${SANDUQ_TEST_WORKERS:-auto} --dist loadscope

## API fuzzing of the central office at length (every operation with a kiosk certificate and staff tokens, and
## the dashboard pages); make test runs the same tests with a few examples each.
fuzz: venv
	@SANDUQ_FUZZ_EXAMPLES=$${SANDUQ_FUZZ_EXAMPLES:-150} $(PY) -m pytest -q -p no:cacheprovider tests/central/test_tls_and_fuzz.py

lint: venv
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy .
	@.venv/bin/lint-imports

## The interactive kiosk with the demo election (needs a display; see README).
kiosk: venv
	@$(PY) run_kiosk.py --demo

## Every benchmark in bench/, then one report of medians and ratios.
bench: venv bench-peer
	@$(PY) -m bench

# The peer for the ballot benchmarks: ElectionGuard 1.4.0 needs Python 3.10 (pyenv has it here).
PY310 ?= $(firstword $(wildcard /root/.pyenv/versions/3.10.*/bin/python) $(shell command -v python3.10))
bench-peer:
	@if [ ! -x .venv-peer/bin/python ]; then \
	  if [ -z "$(PY310)" ]; then echo "bench: no Python 3.10 for the ElectionGuard peer; peer rows will be empty"; \
	  else $(PY310) -m venv .venv-peer && .venv-peer/bin/pip install -q electionguard==1.4.0 PyNaCl==1.6.2; fi; fi

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
