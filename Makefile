# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## Serve the bundled demo mirror on 127.0.0.1, crawl it, write archive.db, print a summary
demo: $(BIN)/.installed
	$(BIN)/ogi-archive demo --db archive.db

## The test suite (what CI runs)
test: $(BIN)/.installed
	$(BIN)/pytest

## The benchmarks (speed and memory targets; figures go in the closing notes)
bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_parse.py
	$(BIN)/python benchmarks/bench_normalise.py
	$(BIN)/python benchmarks/bench_crawl.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_kills.py
	$(BIN)/python benchmarks/bench_fuzz.py
	$(BIN)/python benchmarks/bench_giants.py
	$(BIN)/python benchmarks/bench_migrate.py
	$(BIN)/python benchmarks/bench_ocr.py
	$(BIN)/python benchmarks/bench_search.py

clean:
	rm -rf $(VENV) archive.db archive.db-shm archive.db-wal logs
