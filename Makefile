# Mendel: two commands.
#   make run   set up everything and serve the site on http://127.0.0.1:8000
#   make test  set up everything and run the whole suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean-db help catalogues messages
.DEFAULT_GOAL := help

help:
	@echo "make run    set up and serve Mendel on http://127.0.0.1:8000"
	@echo "make test   set up and run ruff, the import contracts and the whole test suite"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch first: the pinned CPU build; then the project and its dev tools.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The translation catalogues (locale/), compiled in Python (babel): nothing to install by hand.
catalogues: $(STAMP)
	$(PY) -m mendel.catalogues

# After marking new strings: extract them into locale/zh_Hans (needs gettext's xgettext),
# then write their Chinese (docs/i18n.md).
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)
	$(PY) manage.py makemessages -d djangojs -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)

MESSAGES_IGNORE := -i '*/migrations/*' -i '.venv/*' -i 'var/*' -i 'tests/*' -i 'bench/*' -i 'docs/*' -i 'deploy/*' -i 'build/*'

run: $(STAMP) catalogues
	$(PY) -m mendel.serve

# One worker per core (pytest-xdist), each with its own test database and Redis database;
# a file's tests stay together on one worker (their module fixtures start servers once).
TEST_WORKERS ?= auto

test: $(STAMP) catalogues
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(PY) bench/render.py

clean-db:
	rm -rf var/pgdata
