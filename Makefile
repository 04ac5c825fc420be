# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv on first use and install plugshare with its test extras into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint spec serve browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/plugshare demo

test: $(STAMP) browser
	$(BIN)/python -m pytest

# Debian's chromium and chromedriver for the browser tests (skipped, saying why, where they cannot be had).
browser:
	@scripts/install-browser

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# The reference server on http://127.0.0.1:$(PORT)/v1 with the synthetic shared service loaded,
# in memory; it prints a token for the three fictional councils. Stop with Ctrl-C.
PORT ?= 8080
serve: $(STAMP)
	$(BIN)/plugshare serve --port $(PORT) --synthetic --token-for E07000991 --token-for E07000992 --token-for E07000993

# Regenerate the published artefacts under spec/ from the models.
spec: $(STAMP)
	$(BIN)/plugshare spec export

clean:
	rm -rf $(VENV) build dist .pytest_cache
