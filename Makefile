# One command to set up and run the main job, one to run the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup demo test lint bench clean protos

$(BIN)/topolet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,fleet,realnode,cluster]'
	touch $@

setup: $(BIN)/topolet

# The seed article's pod on the seed article's kubelet, on an embedded 2-NUMA node.
demo: setup
	$(BIN)/topolet demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: setup lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/admission.py

# Regenerate the PodResources / CRI gRPC modules from src/topolet/realnode/proto/*.proto
protos: setup
	cd src && ../$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --grpc_python_out=. --pyi_out=. \
		topolet/realnode/proto/podresources_v1.proto topolet/realnode/proto/cri_v1.proto

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
