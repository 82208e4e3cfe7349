# Two entry points from a fresh clone: `make demo` and `make test`. Each creates .venv when
# missing and installs the pinned dependencies (requirements.lock) into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench soak lint setup clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m citynode.demo

test: $(STAMP)
	@# The API contract test (tests/test_contract.py) runs the node in a network namespace.
	@command -v unshare >/dev/null && command -v ip >/dev/null || \
		(apt-get update && apt-get install -y util-linux iproute2)
	$(BIN)/ruff check citynode protocol vocab tests bench
	$(BIN)/mypy
	sh deploy/ensure-nginx.sh
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# The long fault runs (issue 12): the network partition with 10,000 records written apart
# (prints the heal-to-convergence time), then ten minutes of concurrent publish, sync, search
# and page views with memory, open files, lost writes and log errors checked.
soak: $(STAMP)
	sh deploy/ensure-nginx.sh
	CITYNODE_FAULT_RECORDS=10000 $(BIN)/python -m pytest tests/test_faults_network.py \
		-k partition -s -o timeout=1800
	$(BIN)/python -m tests.soak --minutes 10

lint: $(STAMP)
	$(BIN)/ruff check citynode protocol vocab tests bench
	$(BIN)/ruff format --check citynode protocol vocab tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .cache
