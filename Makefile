# stellar-webhooks. `make run` and `make test` are the README's Quick start.

SWIFT ?= swift
# Tests build with warnings as errors, so a warning fails CI.
TEST_FLAGS := -Xswiftc -warnings-as-errors
PYTHON ?= python3
# Root installs directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What a fresh Debian 12 machine with Swift lacks: for `make run` the C libraries, nginx and curl
# (its readiness checks); for the tests and benchmarks those and the tools below, PostgreSQL (the
# tests' throwaway cluster, Tests/pg/cluster) and libpq (the PostgreSQL store).
RUN_PACKAGES := libfcgi-dev libssl-dev libcurl4-openssl-dev nginx curl
APT_PACKAGES := $(RUN_PACKAGES) wrk openssl python3 python3-pytest postgresql libpq-dev
# And for `make bench` alone: spawn-fcgi, which runs bench/c-responder.c as the 2-worker row's
# reference (bench/run).
BENCH_PACKAGES := spawn-fcgi
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
# The test tools from PyPI: the OpenAPI document's validator, the API fuzzer (4.x: its
# configuration format), Prometheus' own parser of the metrics, the official Standard Webhooks
# library (the e2e receiver verifies every signed request with it) and cryptography (AES-GCM, to
# open a sealed signing secret as the service does); and how much `make fuzz` and `make test` fuzz.
PIP_PACKAGES := pytest 'schemathesis>=4.32,<5' 'openapi-spec-validator>=0.7' prometheus_client \
	standardwebhooks cryptography
FUZZ_REQUESTS ?= 100000
FUZZ_QUICK_SECONDS ?= 30

.PHONY: run test run-deps deps build release unit e2e fuzz fuzz-quick bench hot-functions clean \
	install uninstall deb test-package

## run: install what is missing, build, and run nginx on 127.0.0.1:8080 (or $PORT) with the service.
## Needs no root once the packages are installed and the release build is up to date.
run: run-deps release
	nginx/dev-run

## test: every test (the formatter's lint, unit tests, 45 seconds of API fuzzing, then end-to-end
## tests through real nginx)
test: deps lint build unit fuzz-quick e2e

# The formatter is the toolchain's `swift format`, configured in .swift-format: `make format`
# rewrites the Swift sources in place, `make lint` (part of `make test`) fails on any difference.
SWIFT_FORMAT_PATHS := Package.swift Sources Tests
.PHONY: format lint
format:
	$(SWIFT) format --in-place --recursive $(SWIFT_FORMAT_PATHS)
lint:
	$(SWIFT) format lint --strict --recursive $(SWIFT_FORMAT_PATHS)

# What `make run` needs: system packages only (no pip, nothing for the tests).
run-deps:
	@$(call apt_install,$(RUN_PACKAGES))

# What the tests and benchmarks need: all the system packages, then the Python tools.
deps:
	@$(call apt_install,$(APT_PACKAGES))
	@$(PYTHON) -c 'import pytest, schemathesis, openapi_spec_validator, prometheus_client, standardwebhooks, cryptography' 2>/dev/null || { \
		$(PYTHON) -m pip --version >/dev/null 2>&1 || { $(call apt_install,python3-pip); }; \
		$(PYTHON) -m pip install -q $(PIP_PACKAGES) 2>/dev/null || \
		$(PYTHON) -m pip install -q --break-system-packages $(PIP_PACKAGES); }

build:
	$(SWIFT) build $(TEST_FLAGS)

release: $(RELEASE_BIN)

# The Swift runtime linked in: each process starts without loading a dozen shared libraries.
# Not position-independent: the loader then has no 40,000 relative relocations to apply (and
# pages to dirty) in every process it starts. libstdc++, which the runtime needs, linked in as
# well (1 MB less resident in every process, 1 ms off every start): the Swift driver asks for
# -lstdc++ itself, so a folder first on the library path answers that name with a linker script
# naming the static archive. Without the archive, libstdc++ stays shared.
STATIC_LIBSTDCXX := $(CURDIR)/.build/static-libstdc++
# The code every process runs packed together at the start of the text (bench/hot-functions
# explains and regenerates the list): the kernel maps code 64 KB around each first touch, so
# packed it keeps ~1.7 MB less resident in every worker and the master. Needs lld, which Swift
# toolchains ship, and each function in a section of its own; without lld the build is unordered.
HOT_FUNCTIONS := $(wildcard $(CURDIR)/bench/hot-functions.txt)
LLD := $(wildcard $(dir $(realpath $(shell command -v $(SWIFT) 2>/dev/null)))ld.lld)
# Constants read-only, in the segment before the code: Swift emits a few small `.rodata` sections
# writable, and a linker gives an output section the flags of all its inputs, so the whole 1.8 MB
# of `.rodata` landed in a writable segment, whose pages a process cannot drop from its mappings
# after start-up (Sources/CShims/CPages). This script moves the writable ones to a section of
# their own after `.data` (INSERT: the rest of the layout is the linker's default).
RODATA_SCRIPT := $(CURDIR)/.build/read-only-rodata.ld
ORDER_FLAGS := $(if $(and $(LLD),$(HOT_FUNCTIONS)),-Xswiftc -use-ld=lld -Xswiftc -Xfrontend -Xswiftc -function-sections \
	-Xlinker --symbol-ordering-file=$(HOT_FUNCTIONS) -Xlinker --no-warn-symbol-ordering -Xlinker $(RODATA_SCRIPT))
$(RELEASE_BIN): $(RELEASE_SOURCES) $(HOT_FUNCTIONS)
	@archive=$$(clang -print-file-name=libstdc++.a 2>/dev/null); mkdir -p $(STATIC_LIBSTDCXX); \
	if [ -f "$$archive" ]; then echo "INPUT($$archive)" > $(STATIC_LIBSTDCXX)/libstdc++.so; \
	else rm -f $(STATIC_LIBSTDCXX)/libstdc++.so; fi
	@printf 'SECTIONS {\n  .rodata.writable : { INPUT_SECTION_FLAGS(SHF_WRITE) *(.rodata) }\n} INSERT AFTER .data;\n' \
		> $(RODATA_SCRIPT)
	@rm -f $@  # relinks it even when only the list of hot functions changed
	$(SWIFT) build -c release --static-swift-stdlib --disable-local-rpath -Xswiftc -Xclang-linker -Xswiftc -no-pie \
		-Xlinker -L$(STATIC_LIBSTDCXX) $(ORDER_FLAGS)
	@touch $@

# What installing needs besides the sources (packaging/install lists every installed file): the
# release binary stripped as Debian strips binaries, the man page from the command-line
# definitions (swift-argument-parser's generate-manual, built on its own so that the release and
# test builds keep their flags), and the shell completions. Dated by the last commit, so one commit
# generates the same files.
GENERATED := $(CURDIR)/.build/generated
GENERATE_MANUAL := .build/tools/debug/generate-manual
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
INSTALL_FILES := $(GENERATED)/stellar-webhooks $(GENERATED)/stellar-webhooks.1.gz \
	$(addprefix $(GENERATED)/completion.,bash zsh fish)
$(GENERATED)/stellar-webhooks: $(RELEASE_BIN)
	@mkdir -p $(@D)
	strip --remove-section=.comment --remove-section=.note --strip-unneeded -o $@ $<
$(GENERATE_MANUAL): Package.swift $(wildcard Package.resolved)
	$(SWIFT) build --scratch-path .build/tools --product generate-manual
	@touch $@
$(GENERATED)/stellar-webhooks.1.gz: $(RELEASE_BIN) $(GENERATE_MANUAL)
	@rm -rf $(GENERATED)/man && mkdir -p $(GENERATED)/man
	$(GENERATE_MANUAL) $(RELEASE_BIN) --date $$(date -u -d @$(SOURCE_DATE_EPOCH) +%F) \
		--output-directory $(GENERATED)/man
	gzip -9n < $(GENERATED)/man/stellar-webhooks.1 > $@
# Without the bash script's #! line: completions are sourced, never run.
$(GENERATED)/completion.%: $(RELEASE_BIN)
	@mkdir -p $(@D)
	$(RELEASE_BIN) --generate-completion-script $* > $@.tmp && sed -i '1{/^#!/d}' $@.tmp && mv $@.tmp $@

## install: the binary, configuration, systemd units, man page, completions and web server
## snippets under $(DESTDIR)$(PREFIX) (default /usr/local; configuration and snippets under /etc);
## uninstall removes them (an edited configuration stays)
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
install: $(INSTALL_FILES)
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' packaging/install install $(GENERATED)

uninstall:
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' packaging/install uninstall $(GENERATED)

## deb: $(DIST)/stellar-webhooks_VERSION-$(DEB_REVISION)_ARCH.deb for Debian 12, with dpkg-deb
## (packaging/deb/README.md); VERSION is Product.version, the version's one home
VERSION := $(shell sed -n 's/^ *public static let version = "\(.*\)"$$/\1/p' Sources/WebhooksCore/Support/Product.swift)
DEB_REVISION ?= 1
DIST ?= dist
deb: $(INSTALL_FILES)
	@$(call apt_install,dpkg-dev)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) packaging/deb/build $(VERSION)-$(DEB_REVISION) $(GENERATED) $(DIST)

## test-package: as root, builds the package, lints it, installs, serves through nginx, upgrades,
## removes and purges it (Tests/package/test_package.py; skipped for other users)
test-package: deps
	@$(call apt_install,lintian dpkg-dev nginx apache2 lighttpd systemd)
	$(PYTHON) -m pytest -q Tests/package

## hot-functions: rewrite bench/hot-functions.txt from a profiled run (valgrind; a few minutes)
hot-functions: release
	@$(call apt_install,valgrind nginx curl)
	bench/hot-functions

unit:
	$(SWIFT) test $(TEST_FLAGS)

# Every end-to-end test on the flat-file store, then on PostgreSQL (a throwaway cluster,
# Tests/pg/cluster). What no store takes part in runs once: FastCGI fuzzing, `make run` (flat
# files by design), systemd's socket and notifications, process supervision, message bodies,
# Slack's answers and pace (the helper's, recorded as Discord's are), the private-address guard.
STORE_INDEPENDENT_E2E := test_fcgi_fuzz test_quick_start test_systemd test_processes test_discord_message \
	test_slack test_delivery_security
e2e: build
	$(PYTHON) -m pytest -q Tests/e2e
	STELLAR_E2E_STORE=postgres $(PYTHON) -m pytest -q Tests/e2e \
		$(foreach module,$(STORE_INDEPENDENT_E2E),--ignore=Tests/e2e/$(module).py)

# The front ends besides nginx that the configurations in apache/ and lighttpd/ are for.
FRONTEND_PACKAGES := apache2 libapache2-mod-fcgid lighttpd
.PHONY: test-system test-frontends test-metrics-lint
## test-system: the slow or root-only checks `make test` leaves out (.ci/run runs them after it)
test-system: test-frontends test-metrics-lint test-package

## test-metrics-lint: Prometheus' own linter (promtool, from Debian's prometheus package, large
## for `make deps`) on the metrics of a service with some traffic
test-metrics-lint: deps build
	@$(call apt_install,prometheus)
	$(PYTHON) -m pytest -q Tests/e2e/test_monitoring.py -k promtool

## test-frontends: the shipped Apache (mod_proxy_fcgi, mod_fcgid) and lighttpd configurations,
## end to end through the real servers from Debian's packages (Tests/frontends)
test-frontends: deps build
	@$(call apt_install,$(FRONTEND_PACKAGES))
	$(PYTHON) -m pytest -q Tests/frontends

## fuzz: API fuzzing with Schemathesis through real nginx against docs/openapi.yaml, until
## FUZZ_REQUESTS requests (default 100000); prints request counts and results (Tests/fuzz)
fuzz: deps build
	$(PYTHON) Tests/fuzz/run_fuzz.py --requests $(FUZZ_REQUESTS) --max-time 300
	$(MAKE) --no-print-directory fuzz-fcgi

# The bounded fuzz run of `make test`: one round of FUZZ_QUICK_SECONDS.
fuzz-quick: build
	$(PYTHON) Tests/fuzz/run_fuzz.py --max-time $(FUZZ_QUICK_SECONDS)

# FastCGI record fuzzing straight at the socket, FCGI_FUZZ_CASES crafted connections (default
# 30000, a few minutes) while valid requests go through nginx; prints cases, records, workers
# killed by libfcgi's known abort and replaced, nginx requests (make test runs 4000)
FCGI_FUZZ_CASES ?= 30000
.PHONY: fuzz-fcgi chaos
fuzz-fcgi: build
	FCGI_FUZZ_CASES=$(FCGI_FUZZ_CASES) $(PYTHON) -m pytest -q -s Tests/e2e/test_fcgi_fuzz.py -k crafted

## chaos: CHAOS_ROUNDS (default 100) rounds of SIGKILLs to workers, the delivery helper and the
## master under load through nginx; prints kills per kind and acknowledged-vs-found counts
## (Tests/e2e/test_chaos.py; make test runs 6 rounds)
CHAOS_ROUNDS ?= 100
chaos: deps build
	CHAOS_ROUNDS=$(CHAOS_ROUNDS) $(PYTHON) -m pytest -q -s Tests/e2e/test_chaos.py

## bench: the "Lean and fast" table (bench/lean): memory, start-up, emit-to-Discord latency,
## GET and POST /webhooks (flat files, PostgreSQL, GET at 2 workers), a 2,000-delivery fan-out
## (both stores), a 100,000 backlog, deep pages and two hosts on one PostgreSQL, each beside a
## reference measured in the same run; exits non-zero on a lost or duplicated delivery
bench: deps release
	@$(call apt_install,$(BENCH_PACKAGES))
	bench/lean

clean:
	rm -rf .build run bench/out dist
