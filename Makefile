# The two set-up commands of the README:
#   make demo   install into .venv, create the SQLite database, load the demo fair, serve it
#   make test   install the test tools into the same .venv and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: demo test install lint bench clean-demo translations

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

# Mozilla's ical.js, one of the independent parsers the calendar tests read feeds with.
tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/js --no-audit --no-fund --silent \
	  || echo "WARNING: npm ci failed: the ical.js calendar checks will be SKIPPED." >&2; \
	else echo "WARNING: npm is not installed: the ical.js calendar checks will be SKIPPED." >&2; fi

test: $(VENV)/.installed-test tests/js/node_modules/.package-lock.json
	bash .ci/ensure-chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run

clean-demo:
	rm -f instance/matchfair.sqlite3

# UI strings (docs/translations.md): extract every marked string (babel.cfg) into the
# template, merge it into the Japanese catalog (created on first run), compile the .mo
# the app loads. English needs no catalog: the msgids are the English text.
TRANSLATIONS := web/translations
JA_PO        := $(TRANSLATIONS)/ja/LC_MESSAGES/messages.po

translations: $(VENV)/.installed
	mkdir -p $(TRANSLATIONS)
	$(BIN)/pybabel extract -F babel.cfg -c TRANSLATORS: --project=matchfair \
		-o $(TRANSLATIONS)/messages.pot .
	if [ -f $(JA_PO) ]; then \
		$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l ja \
			--ignore-obsolete --no-fuzzy-matching; \
	else \
		$(BIN)/pybabel init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l ja; \
	fi
	$(BIN)/pybabel compile -d $(TRANSLATIONS) -l ja --statistics
