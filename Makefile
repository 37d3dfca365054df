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

# params.yaml is validated first (scripts.weights_overrides), before DVC reads dvc.yaml, whose stage lists come
# from it. ImageNet weights that params.yaml asks for but this machine lacks: a banner says so, and the pipeline
# runs with `-S <section>.weights=random` set explicitly (recorded in params.yaml, dvc.lock and metrics).
# One run at a time per checkout: a second `make repro` waits on the lock, since two DVC runs in one checkout
# rewrite the same params.yaml (README, "When something goes wrong").
repro: setup dataset
	@mkdir -p .dvc/tmp; exec 9> .dvc/tmp/make-repro.lock; \
	flock -n 9 || { echo "another make repro runs in this checkout: waiting for it"; flock 9; }; \
	overrides="$$(python -m scripts.weights_overrides)" || exit 1; \
	if [ -n "$$overrides" ]; then echo "dvc exp run $$overrides"; dvc exp run $$overrides; else dvc repro; fi

# ruff (format and lint, settings in pyproject.toml), then the whole test suite on two workers (pytest-xdist): the tests
# of one file stay on one worker (a module's fixtures, such as the teamwork tests' clones, are built once), in the
# order tests/conftest.py sets (the tiny pipeline's two files at either end, so it is built once, beside unit tests).
test: setup dataset sshd
	ruff format --check .
	ruff check .
	python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder
