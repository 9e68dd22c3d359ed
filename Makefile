# restoredrill build. `make` builds build/restoredrill; `make check` runs the
# unit and integration tests; `make demo` runs a real drill on the fixtures.
# Every dependency comes through pkg-config.

BUILD   ?= build
CC      ?= cc
PKGS    := libpq libmariadb libcurl libcjson libcrypto zlib libzstd libxml-2.0
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla -Wwrite-strings -Werror
CFLAGS  ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
CPPFLAGS += -D_GNU_SOURCE -Iinclude -DRD_VERSION=\"$(VERSION)\"

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
LIBS = $(PKG_LIBS) -lpthread -lm

LIB_SRCS := $(filter-out harness/main.c,$(wildcard harness/*.c harness/*/*.c)) \
            $(wildcard checks/*.c) $(wildcard reports/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SRCS))
ITEST_SRCS := $(sort $(wildcard tests/integration/test_*.c))
ITEST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(ITEST_SRCS)) $(BUILD)/obj/tests/integration/itest_util.o

.PHONY: all deps deps-build deps-bench check layers unit integration sanitize format format-check demo clean bench \
        bench-s3 fuzz fuzz-smoke fuzz-ci fuzz-build install uninstall
all: $(BUILD)/restoredrill

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/librestoredrill.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/restoredrill: $(BUILD)/obj/harness/main.o $(BUILD)/librestoredrill.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The unit runner is generated: every tests/unit/test_<m>.c defines
# `Suite *<m>_suite(void)`, so adding a suite touches no shared file.
$(BUILD)/gen/unit_main.c: $(UNIT_SRCS) tests/runner.c.in Makefile
	@mkdir -p $(dir $@)
	tests/gen-runner.sh unit $(UNIT_SRCS) > $@
$(BUILD)/gen/itest_main.c: $(ITEST_SRCS) tests/runner.c.in Makefile
	@mkdir -p $(dir $@)
	tests/gen-runner.sh integration $(ITEST_SRCS) > $@
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(WARN) $(CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(BUILD)/unit_tests: $(BUILD)/obj/gen/unit_main.o $(UNIT_OBJS) $(BUILD)/librestoredrill.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)
$(BUILD)/integration_tests: $(BUILD)/obj/gen/itest_main.o $(ITEST_OBJS) $(BUILD)/librestoredrill.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

deps:
	@tests/install-deps.sh test
deps-build:
	@tests/install-deps.sh build
deps-bench:
	@tests/install-deps.sh bench

unit: $(BUILD)/unit_tests
	$(BUILD)/unit_tests

integration: $(BUILD)/integration_tests $(BUILD)/restoredrill
	RD_BIN=$(abspath $(BUILD)/restoredrill) $(BUILD)/integration_tests
	RD_BIN=$(abspath $(BUILD)/restoredrill) RD_LDFLAGS="$(LDFLAGS)" tests/run-shell-tests.sh

# The include graph follows the layers of docs/ARCHITECTURE.md, and no file
# depends on itself through others (by the symbols of the built objects).
layers: all
	sh tests/layers.sh
	python3 tests/cycles.py $(BUILD)

check: deps
	$(MAKE) all
	$(MAKE) layers
	$(MAKE) unit
	$(MAKE) integration

sanitize: deps
	$(MAKE) BUILD=build-san SAN=1 all unit integration

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

demo: deps-build all
	fixtures/demo/run-demo.sh $(abspath $(BUILD)/restoredrill)

bench: deps-bench all
	bench/run.sh $(abspath $(BUILD)/restoredrill)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page, the
# JSON Schema and JUnit schema, the examples and the bash completion.
PREFIX ?= /usr/local
INSTALL ?= install
install: all
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/restoredrill/schema \
	    $(DESTDIR)$(PREFIX)/share/doc/restoredrill/examples \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	$(INSTALL) -m 0755 $(BUILD)/restoredrill $(DESTDIR)$(PREFIX)/bin/restoredrill
	$(INSTALL) -m 0644 dist/restoredrill.1 $(DESTDIR)$(PREFIX)/share/man/man1/restoredrill.1
	$(INSTALL) -m 0644 reports/schema/report-v1.schema.json reports/schema/junit.xsd \
	    $(DESTDIR)$(PREFIX)/share/restoredrill/schema/
	cp -R fixtures/examples/. $(DESTDIR)$(PREFIX)/share/doc/restoredrill/examples/
	$(INSTALL) -m 0644 dist/restoredrill.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/restoredrill
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/restoredrill $(DESTDIR)$(PREFIX)/share/man/man1/restoredrill.1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/restoredrill
	rm -rf $(DESTDIR)$(PREFIX)/share/restoredrill $(DESTDIR)$(PREFIX)/share/doc/restoredrill

# libFuzzer targets (tests/fuzz/fuzz_*.c, clang from Debian): the library
# built again with clang and the sanitizers in $(FUZZ_BUILD). `make fuzz`
# runs each target FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/);
# `make fuzz-smoke` runs each for FUZZ_SMOKE_SECONDS (CI).
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h $(BUILD)/librestoredrill.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) $< \
	    $(BUILD)/librestoredrill.a -o $@ $(LIBS)

fuzz-build:
	@tests/install-deps.sh fuzz
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
	    $(addprefix $(FUZZ_BUILD)/fuzz/,$(FUZZ_TARGETS))
fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-smoke: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)
# CI: every target FUZZ_CI_RUNS executions from a fixed seed: bounded, and
# starting the same way every time.
FUZZ_CI_RUNS ?= 20000
fuzz-ci: fuzz-build
	FUZZ_RUNS=$(FUZZ_CI_RUNS) tests/fuzz/run.sh $(FUZZ_BUILD) 0 $(FUZZ_TARGETS)
# S3 streaming against curl (bench/s3.sh), against moto_server and then
# s3rver, with the smallest verifying reader (bench/s3_pull.c) as the base
$(BUILD)/s3_fetch: $(BUILD)/obj/bench/s3_fetch.o $(BUILD)/librestoredrill.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/s3_pull: $(BUILD)/obj/bench/s3_pull.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
bench-s3: deps-bench $(BUILD)/s3_fetch $(BUILD)/s3_pull
	BENCH_S3_SERVER=moto bench/s3.sh $(abspath $(BUILD)/s3_fetch) 1024 $(abspath $(BUILD)/s3_pull)
	BENCH_S3_SERVER=s3rver bench/s3.sh $(abspath $(BUILD)/s3_fetch) 1024 $(abspath $(BUILD)/s3_pull)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
