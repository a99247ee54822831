# A thin wrapper over CMake so that a new user types only `make run` and
# `make test`. Both install missing Debian packages first.
BUILD      ?= build
TEST_BUILD ?= build/test
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local

.PHONY: all deps build run test bench install clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Daemon + gateway in the foreground; gateway on SANDBOX_HOST:SANDBOX_PORT
# (default 127.0.0.1:8070). Ctrl-C stops both.
run: build
	@scripts/run.sh $(BUILD)/bin

# The whole suite, built with -Werror and ASan/UBSan.
test: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSBX_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest --output-on-failure --timeout 600

bench: build
	@scripts/bench.sh $(BUILD)

install: build
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)

.PHONY: base-image compose-test

# debian:bookworm-slim for the Dockerfiles: pulled where a registry answers,
# else built locally with debootstrap + docker import (scripts/base-image.sh).
base-image:
	@scripts/base-image.sh

# The docker compose stack end to end (installs docker.io/docker-compose and
# starts dockerd when missing; exit 77 where Docker cannot run). Minutes, so
# not part of `make test`.
compose-test:
	@tests/compose/run.sh
