# Two commands for a new user: `make demo` and `make test`. Both create .venv when missing.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the fast static embedding model: built offline from the installed MiniLM (about 15 s), not kept in git
STATIC := models/minilm-static/model.safetensors
# the suite runs in this many processes, one test file per process at a time (pytest-xdist)
TEST_WORKERS ?= 2

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: this takes the CPU build lying on this machine's disk
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"
	touch $(STAMP)

$(STATIC): $(STAMP)
	$(BIN)/themeassist models build-static --out models/minilm-static --overwrite

install: $(STAMP) $(STATIC)

demo: $(STAMP) $(STATIC)
	$(BIN)/themeassist demo --out demo-output
	@echo "Report written to demo-output/report.html"

test: $(STAMP) $(STATIC)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) demo-output .pytest_cache
