# Two commands for a new user: `make repro` (set up, then run the pipeline) and `make test` (lint and tests).
# Both are idempotent: the virtual environment is rebuilt only when a requirements file changes.
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# Stages run `python -m stages.X`: the venv must come first on PATH for dvc and its commands.
export PATH := $(BIN):$(PATH)
# Paths in recipes are quoted: the checkout's folder may have a space in its name (tests/test_makefile.py).

.PHONY: setup dataset sshd repro test

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x "$(BIN)/python" || python3 -m venv "$(VENV)"
	"$(BIN)/python" -m pip install -q -r requirements-dev.txt
	touch "$(STAMP)"

dataset:
	scripts/install_dataset.sh

# Debian's openssh-server for the SSH-remote test (tests/pipeline/test_teamwork.py starts its own sshd on 127.0.0.1).
sshd:
	scripts/install_sshd.sh

# ImageNet weights that params.yaml asks for but this machine lacks: a banner says so, and the pipeline
# runs with `-S <section>.weights=random` set explicitly (recorded in params.yaml, dvc.lock and metrics).
repro: setup dataset
	@overrides="$$(python -m scripts.weights_overrides)" || exit 1; \
	if [ -n "$$overrides" ]; then echo "dvc exp run $$overrides"; dvc exp run $$overrides; else dvc repro; fi

# ruff (format and lint, settings in pyproject.toml), then the whole test suite on two workers (pytest-xdist; each
# half of the tiny pipeline's tests stays on one worker: tests/pipeline/conftest.py).
test: setup dataset sshd
	ruff format --check .
	ruff check .
	python -m pytest -q -n 2 --dist loadgroup
