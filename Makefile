# flamediff: `make demo` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_ARCHIVE := demo-out/archive
DEMO_LOAD := sample_profiles/load
DEMO_RUNS ?= 8

.DEFAULT_GOAL := help
.PHONY: help venv test demo lint bench profile-self samples clean trials consumers power-sampling

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Where PYTHONDONTWRITEBYTECODE is set (CI images often set it), every command would
	# otherwise compile flamediff's modules from source, 40 ms each time.
	$(BIN)/python -m compileall -q flamediff
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install flamediff with its dev tools

test: $(STAMP) ## run the test suite (real py-spy captures included)
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff and mypy; fails on any finding
	$(BIN)/ruff check flamediff tests benchmarks
	$(BIN)/ruff format --check flamediff tests benchmarks
	$(BIN)/mypy

demo: $(STAMP) ## capture v1 and v2 of the sample load with py-spy; list, show, diff, history, gate
	rm -rf $(DEMO_ARCHIVE)
	$(BIN)/flamediff capture v1 --runs $(DEMO_RUNS) --archive $(DEMO_ARCHIVE) -- $(BIN)/python $(DEMO_LOAD)/v1/load.py
	$(BIN)/flamediff capture v2 --runs $(DEMO_RUNS) --archive $(DEMO_ARCHIVE) -- $(BIN)/python $(DEMO_LOAD)/v2/load.py
	$(BIN)/flamediff list --archive $(DEMO_ARCHIVE)
	$(BIN)/flamediff show v2 --top 8 --archive $(DEMO_ARCHIVE)
	$(BIN)/flamediff diff v1 v2 --top 12 --svg demo-out/v1-v2.svg --png demo-out/v1-v2.png \
	  --html demo-out/v1-v2.html --archive $(DEMO_ARCHIVE)
	$(BIN)/flamediff history 'apply_discounts*' 'render_invoice (*' --png demo-out/history.png \
	  --archive $(DEMO_ARCHIVE)
	@echo "--- gate: v2 must be blocked (exit 1): apply_discounts regressed"
	@$(BIN)/flamediff gate v1 v2 --markdown demo-out/gate.md --archive $(DEMO_ARCHIVE); \
	  status=$$?; echo "gate exit code: $$status"; test $$status -eq 1
	@echo "--- gate with a written justification: accepted (exit 0), reason recorded with v2"
	$(BIN)/flamediff gate v1 v2 --archive $(DEMO_ARCHIVE) \
	  --justify "Discount codes are now matched case-insensitively; a faster lookup follows in v3."
	@echo "demo done: reports and pictures are in demo-out/"

# The power lab's pool of runs (cycles of 8 interleaved runs, ~3.5 s each on a busy 2-core
# machine: 20 cycles take about 10 minutes); captured once, kept in benchmarks/power/.pool.
POWER_POOL ?= 20
.PHONY: power
power: $(STAMP) ## capture the power lab's pool (once) and measure detection and false blocks
	POWER_POOL=$(POWER_POOL) $(BIN)/python -m benchmarks.power.lab pool
	$(BIN)/python -m benchmarks.power.noise
	$(BIN)/python -m benchmarks.power.lab analyse
	$(BIN)/python -m benchmarks.power.lab live

power-sampling: $(STAMP) ## how much each py-spy mode (rate, blocking, priority) tells on a busy machine (~10 min)
	$(BIN)/python -m benchmarks.power.sampling

trials: $(STAMP) ## real libraries from PyPI, several releases each: flamediff against the truth (slow)
	$(BIN)/python -m benchmarks.trials.run
consumers: ## install other tools' readers of flamediff's files for the tests (needs npm)
	cd tests/consumers && npm ci --no-audit --no-fund

clean: ## remove the venv, the demo output and caches
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache

include benchmarks/bench.mk
