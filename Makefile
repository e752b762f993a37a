# blackduck.hub: the commands of the README. Everything runs as root on Debian 12.
SHELL := /bin/bash
LAB := tests/lab
VENV ?= /var/cache/bdlab/venv
PY := $(VENV)/bin/python
ORCH ?= compose
VERSION ?= old
SCALE ?= 10
NAME ?= hub1
SEED ?= 1
PYTEST_ARGS ?=
TEST_WORKERS ?= 2

.PHONY: demo test test-unit sanity units lint lab lab-down lab-status lab-hub lab-hub-rm bench conformance
# The vendor's real bundles (hub-docker-<version> folders) for the conformance suite; default ../shared/vendor.
export HUB_VENDOR_BUNDLES

## demo: bring the lab up, deploy an old hub with generated data, upgrade it with the playbook, print the report
demo: lab
	SCALE=$(SCALE) bash $(LAB)/demo.sh

## test: the whole test suite (sets the lab up first), tests/run.sh: the integration tests marked exclusive run alone
## first, and beside them sanity, ansible-test units, ansible-lint and the integration tests that start no container;
## then the other integration tests on TEST_WORKERS side by side (tests/integration/conftest.py says which share what;
## TEST_WORKERS=1 for one at a time). Every part runs; make test fails with the first failure's code.
test: export TEST_WORKERS := $(TEST_WORKERS)
test: export PYTEST_ARGS := $(PYTEST_ARGS)
test: export LAB_VENV := $(VENV)
test: lab
	bash tests/run.sh

## conformance: the conformance matrix alone, on the vendor's real bundles (HUB_VENDOR_BUNDLES=<folder> to try
## your own unpacked hub-docker-<version> folders); make test runs it too
conformance: lab
	$(PY) -m pytest -ra -p no:cacheprovider $(PYTEST_ARGS) tests/integration/conformance

test-unit: 
	bash $(LAB)/venv.sh
	$(PY) -m pytest -ra tests/unit

## bench: migration speed, memory and disk against the raw tools and the vendor's way (BENCHMARKS.md); SCALE=<MB>, default 100
BENCH_SCALE = $(if $(filter file,$(origin SCALE)),100,$(SCALE))
bench: lab
	$(PY) tests/bench/bench.py --scale $(BENCH_SCALE) --sweep 1,2,4

## sanity: ansible-test sanity on a copy of the collection, offline (tests/sanity/run.sh)
sanity:
	bash tests/sanity/run.sh

## units: ansible-test units (the unit tests, in ansible-test's own environment)
units:
	ANSIBLE_TEST_COMMAND=units bash tests/sanity/run.sh

## lint: ansible-lint, production profile, bare at the root (the whole collection), offline (tests/lint/run.sh)
lint:
	bash tests/lint/run.sh

lab:
	bash $(LAB)/lab.sh up

lab-down:
	bash $(LAB)/lab.sh down

lab-status:
	bash $(LAB)/lab.sh status

lab-hub: lab
	$(PY) $(LAB)/labhub.py deploy $(NAME) --orch $(ORCH) --version $(VERSION) --scale $(SCALE) --seed $(SEED)

lab-hub-rm:
	$(PY) $(LAB)/labhub.py remove $(NAME)
