# Two entry points do everything on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast check fmt bench fuzz clean venv lab

venv: $(STAMP)

# pip stays quiet (its output is pages of wheels); the echo lines say what the minute of silence is.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> creating the virtualenv in $(VENV) ($(PY) -m venv)"
	@$(PY) -m venv $(VENV)
	@echo "==> installing vpce-console and its pinned dependencies (constraints.txt): about a minute, no output"
	@$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)
	@echo "==> installed: $(BIN)/vpce"

demo: $(STAMP)
	@echo "==> starting the embedded lab and the console (vpce --lab); q quits"
	$(BIN)/vpce --lab

lab: $(STAMP)
	$(BIN)/vpce lab --ready-file .lab-ready.json

test: $(STAMP)
	$(BIN)/pytest -q

# the pure unit tests (policy engine, parsers, renderers): seconds, no lab
test-fast: $(STAMP)
	$(BIN)/pytest -q tests/unit

check: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py --iterations 200000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
