# stellar-webhooks. `make run` and `make test` are the README's Quick start.

SWIFT ?= swift
# Tests build with warnings as errors, so a warning fails CI.
TEST_FLAGS := -Xswiftc -warnings-as-errors
PYTHON ?= python3
# Root installs directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What a fresh Debian 12 machine with Swift lacks: for `make run` the C libraries, nginx and curl
# (its readiness checks); for the tests and benchmarks those and the tools below.
RUN_PACKAGES := libfcgi-dev libssl-dev libcurl4-openssl-dev nginx curl
APT_PACKAGES := $(RUN_PACKAGES) wrk openssl python3 python3-pytest
# Installs those of the packages $(1) that are missing. With all of them installed it needs no
# privileges (dpkg -s only), so any user can `make run` once root has installed them.
apt_install = missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ -n "$(SUDO)" ] && ! command -v sudo >/dev/null 2>&1; then \
			echo "missing system packages:" $$missing "(install them as root: apt-get install" $$missing")" >&2; \
			exit 1; \
		fi; \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
# The release build, and everything it is built from: `make release` runs `swift build` (minutes,
# and it writes under .build) only when a source is newer than the binary.
RELEASE_BIN := .build/release/stellar-webhooks
RELEASE_SOURCES := Package.swift $(wildcard Package.resolved) $(shell find Sources -type f)

.PHONY: run test run-deps deps build release unit e2e bench clean

## run: install what is missing, build, and run nginx on 127.0.0.1:8080 (or $PORT) with the service.
## Needs no root once the packages are installed and the release build is up to date.
run: run-deps release
	nginx/dev-run

## test: every test (unit tests, then end-to-end tests through real nginx)
test: deps build unit e2e

# What `make run` needs: system packages only (no pip, nothing for the tests).
run-deps:
	@$(call apt_install,$(RUN_PACKAGES))

# What the tests and benchmarks need: all the system packages, then the Python tools.
deps:
	@$(call apt_install,$(APT_PACKAGES))
	@$(PYTHON) -c 'import pytest' 2>/dev/null || $(PYTHON) -m pip install -q pytest

build:
	$(SWIFT) build $(TEST_FLAGS)

release: $(RELEASE_BIN)

$(RELEASE_BIN): $(RELEASE_SOURCES)
	$(SWIFT) build -c release
	@touch $@

unit:
	$(SWIFT) test $(TEST_FLAGS)

e2e: build
	$(PYTHON) -m pytest -q Tests/e2e

## bench: requests/s through nginx beside nginx's own `return 200` and a bare C responder, then
## deliveries/s and emit-to-Discord latency against the fake Discord beside a plain client
bench: deps release
	bench/run
	bench/delivery

clean:
	rm -rf .build run bench/out
