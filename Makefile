# hrsync — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test docs screenshots soak fuzz lint typecheck unit bench bench-steady bench-scale bench-kill-soak bench-service bench-scim bench-rest clean

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

# docs/ as a site at http://127.0.0.1:8000/ while you edit (the tests build it with --strict).
docs: $(STAMP)
	$(BIN)/mkdocs serve

# The admin page's screenshots in docs/screenshots, every page at 1366 and 390 pixels wide
# (NAME.png, NAME-390.png), in Debian's chromium against hrsync serve and the emulator.
screenshots: $(STAMP)
	mkdir -p docs/screenshots
	HRSYNC_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider \
		tests/e2e/test_admin_page_browser.py::test_an_admin_signs_in_approves_a_held_run_and_signs_out \
		tests/e2e/test_admin_page_widths.py

# Thousands of random HR histories with drift, faults and kills, from an export, SCIM pushes
# and HR systems' APIs (HRSYNC_SOAK_EXAMPLES=N).
soak: $(STAMP)
	HRSYNC_VARIANT_MATRIX=all $(BIN)/pytest tests/api/test_variant_matrix.py -q
	HYPOTHESIS_PROFILE=soak $(BIN)/pytest tests/api/test_model_based.py \
		tests/api/test_model_based_scim.py tests/api/test_model_based_rest.py \
		-p no:cacheprovider --hypothesis-show-statistics -q

# Schemathesis against the emulator server, from Zoho's Cliq OpenAPI documents in
# ../shared/external/zoho-cliq/openapi, default readings and each variant (FUZZ_EXAMPLES=N).
FUZZ_EXAMPLES ?= 15
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz_emulator --max-examples $(FUZZ_EXAMPLES)

bench: $(STAMP)
	$(BIN)/python bench/initial_sync.py --employees 10000

# Scheduled runs after an initial sync: no change, then 1 % churn (JSON).
bench-steady: $(STAMP)
	$(BIN)/python bench/steady_state.py --employees 10000

# Initial sync of csv, people and roles at 1k, 10k, 50k and 100k: one markdown table (slow),
# the emulator in its own process so the memory column is hrsync's alone.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py --sizes 1000,10000,50000,100000 --emulator process

# Applies SIGKILLed at random inside invitation batches and team leaves, 1,000 people, on
# PostgreSQL then SQLite; the invariants after one fault-free apply (KILLS=N; not in CI).
KILLS ?= 30
bench-kill-soak: $(STAMP)
	status=0; \
	$(BIN)/python bench/kill_soak.py --store postgresql --kills $(KILLS) || status=1; \
	$(BIN)/python bench/kill_soak.py --store sqlite --kills $(KILLS) || status=1; \
	exit $$status

# hrsync serve under HR events in real time (about 15 min; not in CI): a single event on a
# quiet service, 60 events at Zoho's update limit, then 100 webhook calls a second for 60 s
# over 10,000 people until the queue drains (a table per part, then JSON).
bench-service: $(STAMP)
	$(BIN)/python bench/service.py --people 10000 --rate 100 --seconds 60

# SCIM pushes into hrsync serve in real time (about 25 min; not in CI): 10,000 POSTs then
# 1,000 PATCHes by 8 clients (rate, latency, nothing lost), then the sync of those people into
# Cliq against Zoho's floor for their invitations (STORE=postgresql for a PostgreSQL store).
STORE ?= sqlite
bench-scim: $(STAMP)
	$(BIN)/python bench/scim.py --users 10000 --patches 1000 --clients 8 --store $(STORE)

# A rest source's reads of 10,000 people from each preset's emulated HR API (the emulator in
# its own process over real HTTP, on its virtual clock): calls against the vendor's limit,
# CPU and memory of the read, full and incremental (a table, then JSON; about 2 min).
bench-rest: $(STAMP)
	$(BIN)/python bench/rest.py --people 10000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/newman/node_modules
