# Two commands for a new user: `make repro` (set up, then run the pipeline) and `make test` (lint and tests);
# `make repro-gpu` on a machine with a CUDA GPU.
# Both are idempotent: the virtual environment is rebuilt only when a requirements file changes.
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# Stages run `python -m stages.X`: the venv must come first on PATH for dvc and its commands.
export PATH := $(BIN):$(PATH)
# Paths in recipes are quoted: the checkout's folder may have a space in its name (tests/test_makefile.py).

.PHONY: setup dataset sshd repro repro-gpu test

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

# params.yaml is validated first (scripts.repro_args), before DVC reads dvc.yaml, whose stage lists come from it.
# ImageNet weights that params.yaml asks for but this machine lacks: a banner says so, and the pipeline runs with
# `-S <section>.weights=random` set explicitly (recorded in params.yaml, dvc.lock and metrics). `make repro-gpu` adds
# the GPU profile's values (profiles/gpu.yaml) the same way. One run at a time per checkout: a second one waits on
# the lock, since two DVC runs in one checkout rewrite the same params.yaml (README, "When something goes wrong").
# The arguments are split on spaces with globbing off (`set -f`): `[32,64]` is a value, not a pattern.
define pipeline
	@mkdir -p .dvc/tmp; exec 9> .dvc/tmp/make-repro.lock; \
	flock -n 9 || { echo "another make repro runs in this checkout: waiting for it"; flock 9; }; \
	overrides="$$(python -m scripts.repro_args $(1))" || exit 1; set -f; \
	if [ -n "$$overrides" ]; then echo "dvc exp run $$overrides"; dvc exp run $$overrides; else dvc repro; fi
endef

repro: setup dataset
	$(call pipeline)

# The GPU profile: the course reports' settings on one CUDA GPU (README "On a GPU").
repro-gpu: setup dataset
	$(call pipeline,--profile gpu)

# ruff (format and lint, settings in pyproject.toml), then the whole test suite on two workers (pytest-xdist): the tests
# of one file stay on one worker (a module's fixtures, such as the teamwork tests' clones, are built once), in the
# order tests/conftest.py sets (the tiny pipeline's two files at either end, so it is built once, beside unit tests).
test: setup dataset sshd
	ruff format --check .
	ruff check .
	python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder
