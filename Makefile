# gitseal: one plain Makefile. Targets: all check demo bench fuzz install clean.
# V=1 for verbose; SAN=1 builds with ASan+UBSan (and the test hooks) into build/asan.

PKGS      := libsodium libcrypto yaml-0.1 libgit2 libcurl
# libcrypto, libgit2 and libcurl are opened on first use (gitseal/dynlib.h):
# their headers are used, the libraries are not linked, and their names are
# taken from the development files found at build time.
LINKED    := libsodium yaml-0.1
soname     = $(shell objdump -p $$(pkg-config --variable=libdir $(1) 2>/dev/null)/$(1).so 2>/dev/null | awk '/SONAME/ {print $$2}')
LIBCRYPTO_SONAME := $(call soname,libcrypto)
LIBGIT2_SONAME := $(call soname,libgit2)
LIBCURL_SONAME := $(call soname,libcurl)
SONAMES   := -DLIBCRYPTO_SONAME='"$(LIBCRYPTO_SONAME)"' -DLIBGIT2_SONAME='"$(LIBGIT2_SONAME)"' \
	     -DLIBCURL_SONAME='"$(LIBCURL_SONAME)"'

PREFIX    ?= /usr/local
CC        ?= cc

ifeq ($(SAN),1)
BUILD     ?= build/asan
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN     := -fsanitize=address,undefined
HOOKS     := -DGITSEAL_TEST_HOOKS
export GITSEAL_TEST_HOOKS = 1
# leak checking is valgrind's job (make memcheck); sodium_malloc's guard pages confuse LSan less than this
export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
else
BUILD     ?= build
OPT       := -O2 -g -D_FORTIFY_SOURCE=2
LDSAN     :=
HOOKS     :=
endif

WARN      := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
HARDEN    := -fstack-protector-strong -fPIE -fcf-protection
CPPFLAGS  += -D_GNU_SOURCE -Iinclude $(HOOKS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SONAMES)
CFLAGS    += $(WARN) $(OPT) $(HARDEN) -MMD -MP
LDFLAGS   += -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(LDSAN)
LDLIBS    += $(shell pkg-config --libs $(LINKED) 2>/dev/null) -lpthread -ldl

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/src/main.o
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
LIBA      := $(BUILD)/libgitseal.a

.PHONY: all check test unit cli interop gitsuite k8s asan memcheck demo bench fuzz install clean deps

all: $(BUILD)/gitseal

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/gitseal: $(MAIN_OBJ) $(LIBA)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS) -lcmocka -lz

deps:
	@scripts/install-deps.sh

# The unit suite: every cmocka binary, run from the top of the tree.
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; GITSEAL_SHARED=$(SHARED) $$t; done

SHARED    ?= ../shared
BATS      := bats --formatter tap
export GITSEAL_BIN = $(abspath $(BUILD)/gitseal)
export GITSEAL_SHARED = $(abspath $(SHARED))

cli: $(BUILD)/gitseal
	$(BATS) tests/cli

interop: $(BUILD)/gitseal
	$(BATS) tests/interop

gitsuite: $(BUILD)/gitseal
	@if ls tests/git/*.bats >/dev/null 2>&1; then $(BATS) tests/git; fi

k8s: $(BUILD)/gitseal
	@if ls tests/k8s/*.bats >/dev/null 2>&1; then $(BATS) tests/k8s; fi

test: unit cli interop gitsuite k8s

memcheck: $(BUILD)/gitseal
	tests/memcheck.sh $(BUILD)/gitseal

asan:
	$(MAKE) SAN=1 unit cli gitsuite k8s

check: deps
	$(MAKE) all
	$(MAKE) test
	$(MAKE) memcheck
	$(MAKE) asan
	@echo "check: all suites passed"

demo: deps all
	@scripts/demo.sh $(BUILD)/gitseal

bench: deps all
	@bench/run.sh $(BUILD)/gitseal

# libFuzzer targets, one per parser. FUZZ_SECONDS per target (default 30).
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -Iinclude \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SONAMES)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

build/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)

fuzz: deps $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$n tests/fuzz/corpus/$$n; done

install: all
	install -D -m 0755 $(BUILD)/gitseal $(DESTDIR)$(PREFIX)/bin/gitseal

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
