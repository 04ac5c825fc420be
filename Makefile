# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv on first use and install plugshare with its test extras into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint spec clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/plugshare demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# Regenerate the published artefacts under spec/ from the models.
spec: $(STAMP)
	$(BIN)/plugshare spec export

clean:
	rm -rf $(VENV) build dist .pytest_cache
