# The two set-up commands of the README:
#   make demo   install into .venv, create the SQLite database, load the demo fair, serve it
#   make test   install the test tools into the same .venv and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: demo test install lint bench clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/matchfair db upgrade
	$(BIN)/matchfair demo load
	$(BIN)/matchfair serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	bash .ci/ensure-chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run

clean-demo:
	rm -f instance/matchfair.sqlite3
