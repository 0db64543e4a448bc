VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint typecheck format clean

$(PY):
	python3 -m venv $(VENV)

install: $(PY)
	$(PY) -m pip install -e '.[test,dev]'

run: install
	$(VENV)/bin/briefs run

test: install
	$(PY) -m pytest

lint:
	$(VENV)/bin/ruff check briefs tests

format:
	$(VENV)/bin/ruff format briefs tests

typecheck:
	$(VENV)/bin/mypy briefs

clean:
	rm -rf $(VENV) output/*.html output/*.md output/*.xml output/*.json output/*.atom output/*.eml output/screenshots seeds/briefs.db*
