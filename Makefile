# hrsync — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test soak lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hrsync demo

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

# Thousands of random HR histories with drift, faults and kills (HRSYNC_SOAK_EXAMPLES=N).
soak: $(STAMP)
	HRSYNC_VARIANT_MATRIX=all $(BIN)/pytest tests/api/test_variant_matrix.py -q
	HYPOTHESIS_PROFILE=soak $(BIN)/pytest tests/api/test_model_based.py -p no:cacheprovider \
		--hypothesis-show-statistics -q

bench: $(STAMP)
	$(BIN)/python bench/initial_sync.py --employees 10000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
