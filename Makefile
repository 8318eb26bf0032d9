# stellar-webhooks. `make run` and `make test` are the README's Quick start.

SWIFT ?= swift
# Tests build with warnings as errors, so a warning fails CI.
TEST_FLAGS := -Xswiftc -warnings-as-errors
PYTHON ?= python3
# Root installs directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What a fresh Debian 12 machine with Swift lacks: the C libraries, nginx, and the test and
# benchmark tools.
APT_PACKAGES := libfcgi-dev libssl-dev libcurl4-openssl-dev nginx wrk curl openssl python3 python3-pytest

.PHONY: run test deps build release unit e2e bench clean

## run: install what is missing, build, and run nginx on 127.0.0.1:8080 with the service
run: deps release
	nginx/dev-run

## test: every test (unit tests, then end-to-end tests through real nginx)
test: deps build unit e2e

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@$(PYTHON) -c 'import pytest' 2>/dev/null || $(PYTHON) -m pip install -q pytest

build:
	$(SWIFT) build $(TEST_FLAGS)

release:
	$(SWIFT) build -c release

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
