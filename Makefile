# qa2anki tasks.  `make deck` and `make test` set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: install deck check test lint format bench clean

# Runtime install: enough to build the deck.
$(VENV)/.installed-run: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e .
	touch $@

# Development install: tests (including the real Anki importer), ruff and mypy.
$(VENV)/.installed-dev: $(VENV)/.installed-run
	$(PIP) install -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed-dev

deck: $(VENV)/.installed-run
	$(BIN)/qa2anki build questions

check: $(VENV)/.installed-run
	$(BIN)/qa2anki check questions

test: $(VENV)/.installed-dev
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Times builds of 1,000 to 100,000 generated questions against genanki alone (a few minutes).
bench: $(VENV)/.installed-run
	$(BIN)/python bench/run.py

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
