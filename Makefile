# Every target creates .venv on first use: a fresh clone needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck run serve worker bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadbot demo

# Test processes for the suite (pytest-xdist): each has its own PostgreSQL database and SQLite files.
# Much of the suite waits on sockets and child processes, so one per core keeps both cores busy.
TEST_WORKERS ?= auto

# The whole suite: lint, types, unit, integration on SQLite and PostgreSQL, bot and stress tests.
test: $(STAMP)
	$(BIN)/ruff check leadqual blocks bot tests bench
	$(BIN)/ruff format --check leadqual blocks bot tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -n $(TEST_WORKERS)

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not stress and not postgres" -x

# Both processes of the Procfile; Ctrl-C stops both. Reads .env (see .env.example).
run: $(STAMP)
	$(BIN)/leadbot db upgrade
	@trap 'kill 0' INT TERM EXIT; $(BIN)/leadbot serve & $(BIN)/leadbot worker

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
