# Two commands for a fresh machine (Python 3.10+ only):
#   make demo   set up .venv and run the quick baseline comparison (table + plots under results/)
#   make test   set up .venv and run the whole test suite
#   make docs   build the documentation site into site/ (mkdocs build --strict)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PACKAGES := gym_mdp gym_snake gym_gridworld agents conformance
PYTEST_ARGS ?=

.PHONY: demo test lint format type doctest check docs clients venv clean

demo: $(STAMP)
	$(PY) -m agents demo

test: $(STAMP)
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# Code health (CI runs all of them after the tests: .ci/run)
SOURCES := $(PACKAGES) tests benchmarks
DOCTEST_MODULES := gym_snake/gym_snake gym_gridworld/gym_gridworld gym_mdp/gym_mdp agents/agents conformance/gym_conformance
lint: $(STAMP)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(SOURCES)
	$(VENV)/bin/ruff format $(SOURCES)

type: $(STAMP)
	$(VENV)/bin/mypy gym_snake/gym_snake gym_gridworld/gym_gridworld gym_mdp/gym_mdp agents/agents conformance/gym_conformance

# the examples in module and class docstrings, run as doctests
doctest: $(STAMP)
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -p no:cacheprovider -q --doctest-modules \
		-o testpaths= $(DOCTEST_MODULES)

check: test lint type doctest docs

# the third-party RL frameworks (rl-zoo3, tianshou, torchrl) on our envs; also part of `make test`
clients: $(STAMP)
	$(PY) -m pytest -m clients $(PYTEST_ARGS)

docs: $(STAMP)
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

venv: $(STAMP)

$(STAMP): requirements.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is required, found " + sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache site docs/generated
