# The commands of the README: `make run`, `make demo` and `make test`. All start from a fresh
# clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# Every install goes through constraints.txt: the transitive dependencies are pinned too, so
# a fresh clone gets the versions the tests ran with.
PIP_INSTALL := $(PY) -m pip install -q -c constraints.txt

.PHONY: run demo test lint typecheck format constraints

run: $(VENV)/.run-deps
	./scripts/run.sh

# The whole app against the sandbox Bling on loopback (scripts/demo.py); Ctrl-C stops it.
demo: $(VENV)/.run-deps
	$(PY) scripts/demo.py

test: $(VENV)/.dev-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs; the paths and options are in pyproject.toml ([tool.mypy]). The
# Django plugin imports tests.settings, which needs no .env.
typecheck: $(VENV)/.dev-deps
	$(VENV)/bin/mypy

format: $(VENV)/.dev-deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "blingsync needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	touch $@

$(VENV)/.run-deps: $(VENV)/.python-ok requirements.txt constraints.txt
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev-deps: $(VENV)/.python-ok requirements.txt requirements-dev.txt constraints.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

# Regenerate constraints.txt from a fresh virtualenv holding requirements-dev.txt (after a
# change to requirements*.txt; review the diff before committing it).
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install -q --upgrade pip
	.venv-constraints/bin/python -m pip install -q -r requirements-dev.txt
	{ sed -n '1,/^# after changing/p' constraints.txt; .venv-constraints/bin/python -m pip freeze; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints
