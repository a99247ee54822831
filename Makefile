# A thin wrapper over CMake so that a new user types only `make run` and
# `make test`. Both install missing Debian packages first.
BUILD      ?= build
TEST_BUILD ?= build/test
FUZZ_BUILD ?= build/fuzz
FUZZ_CC    ?= clang
FUZZ_SECONDS ?= 60
FUZZ       ?= .
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local
# Where `make install` puts the systemd units (empty: PREFIX/lib/systemd/system).
SYSTEMD_UNIT_DIR ?=

.PHONY: all deps build run test fuzz fuzz-build bench install clean

all: build

deps:
	@LANGUAGES="$(LANGUAGES)" scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
		-DSBX_SYSTEMD_UNIT_DIR=$(SYSTEMD_UNIT_DIR) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Daemon + gateway in the foreground; gateway on SANDBOX_HOST:SANDBOX_PORT
# (default 127.0.0.1:8070). Ctrl-C stops both.
run: build
	@scripts/run.sh $(BUILD)/bin

# The whole suite: the tree built twice with -Werror, by gcc (ASan/UBSan,
# every test) and by clang (the fuzz build: ASan/UBSan and libFuzzer; its
# harnesses replay their regressions and fuzz a few seconds each), and the
# Kubernetes manifests checked against the API schema.
test: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSBX_SANITIZE=ON -DSBX_WERROR=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-build FUZZ_TARGET=all
	@$(MAKE) --no-print-directory k8s-check
	@cd $(TEST_BUILD) && ctest --output-on-failure --timeout 600
	@rm -f $(FUZZ_BUILD)/tests/fuzz/work/*.summary
	@cd $(FUZZ_BUILD) && ctest --output-on-failure --timeout 600 -L fuzz
	@cat $(FUZZ_BUILD)/tests/fuzz/work/*.summary

fuzz-build:
	@CC=$(FUZZ_CC) cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSBX_FUZZ=ON -DSBX_WERROR=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(or $(FUZZ_TARGET),fuzzers)

# Every libFuzzer harness (tests/fuzz) for FUZZ_SECONDS each, one after the
# other, growing its corpus in $(FUZZ_BUILD)/tests/fuzz/work; FUZZ=name
# (a regular expression) picks harnesses.
fuzz: deps fuzz-build
	@rm -f $(FUZZ_BUILD)/tests/fuzz/work/*.summary
	@cd $(FUZZ_BUILD) && SBX_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest -L fuzz -R '$(FUZZ)' \
		--timeout $$(( $(FUZZ_SECONDS) + 600 )) --output-on-failure
	@cat $(FUZZ_BUILD)/tests/fuzz/work/*.summary

bench: build
	@scripts/bench.sh $(BUILD)

# Binaries, library, the systemd units and /etc/sandboxd (README, "Run
# under systemd"); DESTDIR=dir stages it all below dir.
install: build
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)

.PHONY: base-image compose-test swarm-test k8s-check

# debian:bookworm-slim for the Dockerfiles: pulled where a registry answers,
# else built locally with debootstrap + docker import (scripts/base-image.sh);
# then the docker backend's image, sandboxd-runtime:latest, with the runtimes
# of the same LANGUAGES selection as `make deps` (scripts/runtime-image.sh).
base-image:
	@LANGUAGES="$(LANGUAGES)" scripts/runtime-image.sh

# The docker compose stack end to end (installs docker.io/docker-compose and
# starts dockerd when missing; exit 77 where Docker cannot run). Minutes, so
# not part of `make test`.
compose-test:
	@tests/compose/run.sh

# Cluster mode on Docker end to end: 3 sandboxd nodes and 2 gateways from
# nothing (images built), the README's examples through the published port,
# one node killed and back (tests/swarm/run.sh; Swarm where the engine can
# run sandboxd under it, else docker-compose --scale). Minutes, so not part
# of `make test`.
swarm-test:
	@tests/swarm/run.sh

# deploy/k8s/*.yaml against the Kubernetes API schema, offline once its npm
# packages are installed (into build/k8s-check, on the first run); a skip
# (exit 77: no node/npm or registry for that first install) does not fail.
k8s-check:
	@deploy/k8s/check.sh || [ $$? -eq 77 ]
