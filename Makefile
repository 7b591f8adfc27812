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

# ankdown, the peer that `make bench` measures against, in a virtual environment of its own
# (misaka compiles with gcc); the libraries it shares with qa2anki at qa2anki's versions.
ANKDOWN_VENV := build/bench/ankdown-venv
$(ANKDOWN_VENV)/.installed: constraints.txt | $(VENV)/.installed-run
	rm -rf $(ANKDOWN_VENV)
	$(BIN)/python -m venv $(ANKDOWN_VENV)
	$(ANKDOWN_VENV)/bin/python -m pip --disable-pip-version-check --quiet install \
	    -c constraints.txt ankdown==0.7.1 misaka==2.1.1 cffi==2.1.1 pycparser==3.12 \
	    docopt==0.6.2 houdini.py==0.1.0
	touch $@

# Times qa2anki against ankdown on 100 to 10,000 generated questions (about 3 minutes).
bench: $(VENV)/.installed-run $(ANKDOWN_VENV)/.installed
	$(BIN)/python bench/run.py --ankdown $(ANKDOWN_VENV)/bin/ankdown

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
