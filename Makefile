# gitseal: one plain Makefile. Targets: all check lint demo bench fuzz oom install uninstall deb dist clean.
# V=1 for verbose; SAN=1 builds with ASan+UBSan (and the test hooks) into build/asan.

PKGS      := libsodium libcrypto yaml-0.1 libgit2 libcurl
# libcrypto, libgit2 and libcurl are opened on first use (gitseal/dynlib.h):
# their headers are used, the libraries are not linked, and their names are
# taken from the development files found at build time.
LINKED    := libsodium yaml-0.1
CC        ?= cc

# What make asks the machine and the tree (pkg-config, objdump, ar, the
# linker, git describe): about 0.5 s of CPU a make, and make check starts
# 33 (a build or a suite each). The first make of a tree asks and
# hands the answers to the makes it starts in the environment
# (GITSEAL_PROBE_*, for the tree and compiler GITSEAL_PROBED names); a make
# of another tree or compiler (the dist test's build of its tarball) asks
# again. Assigned once (:=): a recursive CPPFLAGS or LDLIBS ran pkg-config
# again for every compile and link.
PROBE_KEY := $(CURDIR) $(CC) $(PKG_CONFIG_PATH)
libdir_of  = $(shell pkg-config --variable=libdir $(1) 2>/dev/null)
soname     = $(shell objdump -p $(call libdir_of,$(1))/$(1).so 2>/dev/null | awk '/SONAME/ {print $$2}')
archive_of = $(wildcard $(call libdir_of,$(1))/$(2).a)
CHACHA_MEMBERS := libcrypto-lib-chacha-x86_64.o libcrypto-lib-poly1305-x86_64.o libcrypto-lib-poly1305.o \
	libcrypto-lib-x86_64cpuid.o
ifneq ($(GITSEAL_PROBED),$(PROBE_KEY))
GITSEAL_PROBE_SO_CRYPTO := $(call soname,libcrypto)
GITSEAL_PROBE_SO_GIT2 := $(call soname,libgit2)
GITSEAL_PROBE_SO_CURL := $(call soname,libcurl)
GITSEAL_PROBE_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
GITSEAL_PROBE_LIBS := $(shell pkg-config --libs $(LINKED) 2>/dev/null)
GITSEAL_PROBE_LIBS_SODIUM := $(shell pkg-config --libs libsodium 2>/dev/null)
GITSEAL_PROBE_A_SODIUM := $(call archive_of,libsodium,libsodium)
GITSEAL_PROBE_A_YAML := $(call archive_of,yaml-0.1,libyaml)
GITSEAL_PROBE_A_CRYPTO := $(call archive_of,libcrypto,libcrypto)
GITSEAL_PROBE_CHACHA := $(if $(GITSEAL_PROBE_A_CRYPTO),$(shell ar t $(GITSEAL_PROBE_A_CRYPTO) 2>/dev/null | \
	grep -cxF $(CHACHA_MEMBERS:%=-e %)))
GITSEAL_PROBE_LLD := $(shell $(CC) -fuse-ld=lld -Wl,--version 2>/dev/null | grep -c LLD)
GITSEAL_PROBE_CLANG := $(findstring clang,$(shell $(CC) --version 2>/dev/null))
GITSEAL_PROBE_VERSION := $(shell scripts/version.sh)
GITSEAL_PROBE_EPOCH := $(shell scripts/version.sh --epoch)
GITSEAL_PROBED := $(PROBE_KEY)
endif
export GITSEAL_PROBED $(filter GITSEAL_PROBE_%,$(.VARIABLES))
LIBCRYPTO_SONAME := $(GITSEAL_PROBE_SO_CRYPTO)
LIBGIT2_SONAME := $(GITSEAL_PROBE_SO_GIT2)
LIBCURL_SONAME := $(GITSEAL_PROBE_SO_CURL)
SONAMES   := -DLIBCRYPTO_SONAME='"$(LIBCRYPTO_SONAME)"' -DLIBGIT2_SONAME='"$(LIBGIT2_SONAME)"' \
	     -DLIBCURL_SONAME='"$(LIBCURL_SONAME)"'

PREFIX    ?= /usr/local

ifeq ($(SAN),1)
BUILD     ?= build/asan
# UBSan's checks trap (ud2) instead of calling its runtime: its 15,500
# check sites' data (source locations, type descriptors: 2.3 MB of .data)
# were globals that ASan registered with red zones at every start and
# LeakSanitizer scanned for pointers at every exit, about 8 ms of the
# ~85 of an ASan `gitseal decrypt` (user + system, medians of 60
# alternating runs). The same checks; a failed one aborts through ASan's
# SIGILL report (handle_sigill below) with its stack and file:line, and
# exits 134, where UBSan's runtime exited 1 like an ordinary error.
# -g1: the line tables (and inlined frames) a sanitizer's report names
# file:line from, not the variables' descriptions of -g, which only a
# debugger reads (SAN_DEBUG=-g on the command line for them): the ASan
# build made from scratch 122 -> 97 s of CPU (2026-12-06, load 12)
SAN_DEBUG ?= -g1
OPT       := -O1 $(SAN_DEBUG) -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	     -fsanitize-undefined-trap-on-error
# the sanitizer runtimes linked in: loading and relocating libasan, libubsan
# and the libstdc++ they pull in cost every process of the test suites
# about a third of its start-up CPU (an ASan+LSan `gitseal decrypt` 0.114 ->
# 0.091 s); what is checked is the same
SAN_STATIC := $(if $(GITSEAL_PROBE_CLANG),-static-libsan,-static-libasan -static-libubsan)
LDSAN     := -fsanitize=address,undefined $(SAN_STATIC)
# the test build is not position-independent: as a PIE, the dynamic loader
# relocated 87,680 pointers at each start (ASan's descriptors of 20,700
# globals, 15,500 of them UBSan's check sites), writing 2.4 MB of .data
# that the leak check then read: -no-pie, a `gitseal --version` 70.3 ->
# 58.7 ms of CPU and 2,899 -> 2,298 page faults (getrusage, medians of 8
# alternating rounds of 10 on the 2-core VM at a load of 16).
# The release build, the one that ships, keeps PIE, relro and now.
PIE       := -no-pie
HOOKS     := -DGITSEAL_TEST_HOOKS
export GITSEAL_TEST_HOOKS = 1
# Every process checks for leaks as it exits (LeakSanitizer): about 18 ms
# of the 41 of an ASan `gitseal --version` (perf stat), most of it reading the
# executable's 8 MB of .data and .bss for pointers; the test build maps
# those pages in one system call first (src/main.c). make check's suites
# check only the first process of each path (LEAK_LEDGER below). Measured and left
# out, as they change no page fault of --version or of a decrypt and the
# CPU time within the noise, or check less: detect_odr_violation=0,
# malloc_context_size=10, quarantine_size_mb=16 (a use after free found
# only within 16 MB of later frees), max_malloc_fill_size=0 (fresh memory
# no longer 0xbe); use_globals=0 reports what only a global points to (a
# decrypt: 2,861 allocations) and so cannot be had without suppressions.
# malloc_context_size=0 or 1 (no allocation stacks: 335 page faults less in
# a process the leak ledger skips, none in one it checks, whose scan reads
# the stack depot's pages anyway) loses leaks: LeakSanitizer takes a chunk
# without its caller's address for the dynamic loader's and never reports
# it (a planted leak in unset went unseen); 2 finds it, saves 108 faults
# and leaves reports no frame past gs_malloc.
export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1:handle_sigill=1
else
BUILD     ?= build
OPT       := -O2 -g -D_FORTIFY_SOURCE=2
LDSAN     :=
PIE       := -pie
HOOKS     :=
endif
# Where the objects and the generated header go: the build's own directory,
# but for `make deb`, which links the release build's objects (the flags
# that compile them are the same; only the link, against shared libsodium
# and libyaml, differs) instead of compiling every file again.
OBJ_DIR   ?= $(BUILD)/obj
GEN_DIR   ?= $(BUILD)/gen

WARN      := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
HARDEN    := -fstack-protector-strong -fPIE -fcf-protection
CPPFLAGS  += -D_GNU_SOURCE -Iinclude $(HOOKS) $(GITSEAL_PROBE_CFLAGS) $(SONAMES)
CFLAGS    += $(WARN) $(OPT) $(HARDEN) -MMD -MP
LDFLAGS   += $(PIE) -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(LDSAN)
# libgit2's start-up parses the CA bundle through this function unless the
# binary has its own (src/git/libgit2.c)
BIN_LDFLAGS := -Wl,--export-dynamic-symbol=mbedtls_x509_crt_parse_file
# libsodium and libyaml are linked statically when their archives are
# installed (the -dev packages ship them): loading and relocating two shared
# libraries cost a small `gitseal age -d` about a tenth of its CPU time.
# STATIC_DEPS=0 links them as shared libraries, as `make deb` does so that a
# distribution's security updates of either reach gitseal.
STATIC_DEPS ?= 1
ifeq ($(STATIC_DEPS)$(if $(GITSEAL_PROBE_A_SODIUM),y)$(if $(GITSEAL_PROBE_A_YAML),y),1yy)
ifeq ($(SAN),1)
# the test build: libyaml's archive as one object whose malloc, realloc and
# strdup are gitseal's hooks (src/util/yaml_alloc.c), put into LIBA
YAML_HOOKED := $(BUILD)/obj/libyaml-hooked.o
LDLIBS    += -Wl,-Bstatic $(GITSEAL_PROBE_LIBS_SODIUM) -Wl,-Bdynamic -lpthread -ldl
else
LDLIBS    += -Wl,-Bstatic $(GITSEAL_PROBE_LIBS) -Wl,-Bdynamic -lpthread -ldl
endif
else
LDLIBS    += $(GITSEAL_PROBE_LIBS) -lpthread -ldl
endif

# OpenSSL's ChaCha20 and Poly1305 code (x86_64 assembly) linked in from
# libcrypto.a for the age payload of a large file (src/age/chacha_linked.c):
# opening the shared libcrypto and fetching its cipher held a 256 MiB
# encryption back 4-7 ms. Four members of the archive, their .init taken
# out (OpenSSL's CPU detection in every process: the payload runs it when
# it needs it). Without them (STATIC_DEPS=0, another OpenSSL or machine)
# the payload goes through OpenSSL's EVP, opened on first use.
CRYPTO_ARCHIVE := $(GITSEAL_PROBE_A_CRYPTO)
ifeq ($(STATIC_DEPS)$(if $(CRYPTO_ARCHIVE),y),1y)
ifeq ($(GITSEAL_PROBE_CHACHA),4)
LINKED_CHACHA := $(BUILD)/obj/openssl-chacha.o
endif
endif

# The functions a small `gitseal age -e/-d` runs (scripts/hot-functions.txt,
# made by scripts/hot-functions.sh) laid out next to each other at the start
# of .text when lld is installed (GNU ld 2.40 cannot order by symbol): the
# kernel maps code 64 KiB at a time on a page fault, and these functions lie
# spread over .text's 790 KiB (a 100-byte `age -d`, median of 20 runs: 71 ->
# 67.5 page faults, `age -e` 70 -> 68; docs/development.md, the small file).
# .init, .fini and .plt go before .text, beside them (scripts/hot-sections.ld:
# lld put them after .text's end, a fault of their own in every process).
# The variables those runs touch go first in .data and .bss (-fdata-sections,
# the same list), in .data's page instead of over 4 pages of .bss, and each
# writable segment starts a page (-z separate-loadable-segments: relro began
# 0xe8 bytes before a page's end, a page more for the loader to write):
# 16 -> 8 page faults in the binary's own pages for a 100-byte `age -d`.
# Segments aligned on 64 KiB (-z max-page-size): the kernel then loads the
# program on a 64 KiB boundary, the windows it maps on a fault fall the same
# way in every process, and the constants a small run reads (first in
# .rodata) come with the loader's first read of the program headers; on
# a page boundary the load address chose whether the hot functions took two
# windows or three and the constants two more faults. The cost: 4 bits less
# of the load address's randomness (28 -> 24), and up to 64 KiB of padding
# per segment in the file.
# PIE, relro and now stay as they are. HOT_ORDER=0 links with the compiler's
# default linker.
HOT_ORDER ?= 1
HOT_LIST  := scripts/hot-functions.txt
HOT_SECTIONS := scripts/hot-sections.ld
ifeq ($(HOT_ORDER),1)
ifneq ($(SAN),1)
ifneq ($(GITSEAL_PROBE_LLD),0)
CFLAGS    += -ffunction-sections -fdata-sections
LDFLAGS   += -fuse-ld=lld -Wl,--build-id=sha1 -Wl,--symbol-ordering-file=$(HOT_LIST) \
	     -Wl,--no-warn-symbol-ordering -Wl,-T,$(HOT_SECTIONS) -Wl,-z,separate-loadable-segments -Wl,-z,max-page-size=65536
HOT_DEP   := $(HOT_LIST) $(HOT_SECTIONS)
endif
endif
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(OBJ_DIR)/%.o)
MAIN_OBJ  := $(OBJ_DIR)/src/main.o
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
LIBA      := $(BUILD)/libgitseal.a

.PHONY: all check lint test unit release-unit cli golden interop gitsuite gitsuite-1 gitsuite-2 k8s asan asan-build release-bats \
	bins memcheck oom oom-bats oom-libs oom-libs-bats demo bench fuzz redteam install clean deps

all: $(BUILD)/gitseal

# make compares times only: a change of flags (a new -fdata-sections, say)
# would leave objects and the binary built the old way. Each kept in a file
# that is rewritten when it differs, so what depends on it is made again.
# The link's flags stay apart: `make deb` links other libraries from the
# same objects.
COMPILE_FLAGS := $(OBJ_DIR)/compile-flags
LINK_FLAGS    := $(BUILD)/link-flags
define keep_flags
ifneq ($$(file <$(1)),$(2))
$$(shell mkdir -p $(dir $(1)))
$$(file >$(1),$(2))
endif
endef
$(eval $(call keep_flags,$(COMPILE_FLAGS),$(CC) $(CPPFLAGS) $(CFLAGS)))
$(eval $(call keep_flags,$(LINK_FLAGS),$(LDFLAGS) $(BIN_LDFLAGS) $(LDLIBS)))

$(OBJ_DIR)/%.o: %.c $(COMPILE_FLAGS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ) $(YAML_HOOKED)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/libyaml-hooked.o: $(GITSEAL_PROBE_A_YAML)
	@mkdir -p $(dir $@)
	$(Q)$(LD) -r -o $@ --whole-archive $< --no-whole-archive --wrap=malloc --wrap=realloc --wrap=strdup

$(BUILD)/obj/openssl-chacha.o: $(CRYPTO_ARCHIVE)
	@mkdir -p $(BUILD)/obj/openssl-chacha
	@$(if $(Q),echo "  AR      $@")
	$(Q)cd $(BUILD)/obj/openssl-chacha && ar x $(CRYPTO_ARCHIVE) $(CHACHA_MEMBERS)
	$(Q)$(LD) -r -o $@.tmp $(CHACHA_MEMBERS:%=$(BUILD)/obj/openssl-chacha/%)
	$(Q)objcopy --remove-section=.init --remove-section=.rela.init --strip-symbol=OPENSSL_cpuid_setup $@.tmp $@ && rm -f $@.tmp

$(BUILD)/gitseal: $(MAIN_OBJ) $(LIBA) $(LINKED_CHACHA) $(HOT_DEP) $(LINK_FLAGS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(BIN_LDFLAGS) -o $@ $(MAIN_OBJ) $(LIBA) $(LINKED_CHACHA) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBA) $(LINKED_CHACHA)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LINKED_CHACHA) $(LDLIBS) -lcmocka -lz

deps:
	@scripts/install-deps.sh

# The unit suite: every cmocka binary, run from the top of the tree.
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; GITSEAL_SHARED=$(SHARED) $$t; done

# make check runs every unit file under ASan+UBSan (asan-unit) and, on the
# release build, only those with a test that differs by build: the 10,000-
# test ML-KEM digest (skipped under ASan), an age decryption's page faults,
# malloc's brk heap (crypto_warm, heap) and the secure arena's layout
# without red zones. The others ran the same code twice, and the release
# build's binaries were built for it (about 22 s of CPU to build and 22 to
# run; docs/development.md, the time budget); the release build's behaviour
# is checked by golden, interop, memcheck, release-bats and ship.
RELEASE_UNIT := $(addprefix $(BUILD)/tests/,test_age_keys test_crypto_warm test_heap test_mlkem test_secmem)
release-unit: $(RELEASE_UNIT)
	@set -e; for t in $(RELEASE_UNIT); do echo "== $$t"; GITSEAL_SHARED=$(SHARED) $$t; done

SHARED    ?= ../shared
BATS      := bats --formatter tap
export GITSEAL_BIN = $(abspath $(BUILD)/gitseal)
# the release build, where there is one, checks what a sanitized run wrote
# (tests/git/oom_helpers.bash: a decrypt without ASan's start-up and leak
# scan, 0.07 s of CPU less each); asan-build makes it
export GITSEAL_CHECK_BIN = $(if $(filter 1,$(SAN)),$(abspath $(wildcard build/gitseal)))
export GITSEAL_SHARED = $(abspath $(SHARED))
# The tests' python3 (their inputs, PyYAML as an oracle) is run as the
# interpreter itself (tests/helpers.bash): python3 on PATH may be a version
# manager's shim, pyenv's a bash script that costs 0.45 s of CPU a start
# where its interpreter costs 0.08. Asked once, by the first make; the
# makes it starts inherit the answer.
ifndef GITSEAL_PYTHON
GITSEAL_PYTHON := $(shell python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
endif
export GITSEAL_PYTHON

# The sweeps of the libraries' allocations (tests/*/oom_libs.bats: every
# call site inside libyaml, OpenSSL and libgit2 that gitseal reaches fails
# in turn, about 150 s of ASan CPU) run in make oom-libs and make oom, not
# in the suites make check runs; gitseal's own allocations are swept there
# (tests/*/oom.bats).
OOM_LIBS_BATS := $(wildcard tests/*/oom_libs.bats)

# startup.bats checks the start-up of the build that ships (its layout, the
# libraries it opens, glibc's malloc, its temporary file's flags): make
# check runs it on that build (release-bats); the sanitized run (SAN=1,
# asan-cli) leaves it out.
cli: $(BUILD)/gitseal
	$(BATS) $(filter-out $(OOM_LIBS_BATS) $(if $(filter 1,$(SAN)),tests/cli/startup.bats),$(wildcard tests/cli/*.bats))

# committed inputs and expected outputs, compared with diff -u (tests/golden/golden.bash)
golden: $(BUILD)/gitseal
	$(BATS) tests/golden

interop: $(BUILD)/gitseal
	$(BATS) tests/interop

# the longest suite, in two halves of about the same CPU time that make -j
# runs as two jobs: the merge driver's files, filter.bats, redteam7.bats and
# worktree.bats, then the rest (trust.bats, git's out-of-memory sweeps, the
# red-team files). In the CI run of 2bad11e the halves took 297 and 281 s
# of ASan CPU; the merge files' fixture commits by the release build
# (tests/git/helpers.bash, fixture) took about 60 s out of the first (side
# by side at load 12-18: merge, mergefuzz, redteam7), so
# worktree.bats (27 s) moved to it (docs/development.md, the time budget).
# In the CI run of 9e1ccdc they took 223 and 258 s; the cuts of 2026-12-05
# took about 6 s from the first and 10 from the second, and redteam16.bats
# (17 s) moved to the first.
GIT_BATS  := $(wildcard tests/git/*.bats)
GIT_HALF1 := $(filter $(addprefix tests/git/,merge.bats mergefuzz.bats checkout_merge.bats \
	filter.bats conflict_states.bats redteam7.bats worktree.bats redteam16.bats),$(GIT_BATS))
GIT_HALF2 := $(filter-out $(GIT_HALF1) $(OOM_LIBS_BATS),$(GIT_BATS))
gitsuite: gitsuite-1 gitsuite-2
gitsuite-1: $(BUILD)/gitseal
	$(if $(GIT_HALF1),$(BATS) $(GIT_HALF1))
gitsuite-2: $(BUILD)/gitseal
	$(if $(GIT_HALF2),$(BATS) $(GIT_HALF2))

k8s: $(BUILD)/gitseal
	$(BATS) $(filter-out $(OOM_LIBS_BATS),$(wildcard tests/k8s/*.bats))

test: unit cli golden interop gitsuite k8s

memcheck: $(BUILD)/gitseal
	tests/memcheck.sh $(BUILD)/gitseal

# golden is left out: over unit, cli, gitsuite and k8s its cases run five
# more lines (two returns and three `continue`, measured with gcov),
# nothing a sanitizer looks at; make SAN=1 golden still runs it.
ASAN_SUITES := $(addprefix asan-,unit cli gitsuite-1 gitsuite-2 k8s)
asan: $(ASAN_SUITES)
# The out-of-memory sweeps with every secure and plain allocation failed in
# turn, not only the first of each call site as in make check
# (tests/helpers.bash, sweep_oom): half an hour on 2 cores. The libraries' allocations too
# (oom_libs.bats) for the commands; the git ones stay per call site
# (6,600 allocations of libgit2, OpenSSL and libyaml in a `git add`).
oom: asan-build
	GITSEAL_OOM_SWEEP=full $(MAKE) SAN=1 oom-bats
oom-bats:
	$(BATS) tests/cli/oom.bats tests/git/oom.bats tests/k8s/oom.bats $(OOM_LIBS_BATS)
# the libraries' sweeps per call site, as make check ran them until 2026-12-04
oom-libs: asan-build
	$(MAKE) SAN=1 oom-libs-bats
oom-libs-bats:
	$(BATS) $(OOM_LIBS_BATS)
.PHONY: $(ASAN_SUITES)
# built once, before the suites that use it run beside each other (make
# check builds it on CHECK_JOBS cores: 69 -> 36 s on the 2-core VM)
asan-build:
	$(MAKE) SAN=1 bins
	$(MAKE) SAN= build/gitseal
bins: $(BUILD)/gitseal $(UNIT_BIN)
# LeakSanitizer checks a gitseal process of the ASan suites only if it is
# the first of the suite run with its signature (command words and flags,
# the other test hooks' settings, where its errors and warnings were raised,
# its exit status) or the first to allocate at one of gitseal's call sites
# (src/main.c), not the thousands after it that run the same path: 11-18
# ms of CPU each (docs/development.md, the time budget). A sanitizer report
# from any process fails the suite (scripts/leak_ledger.sh), even where the
# test ignores the exit status. LEAK_LEDGER= checks every process.
LEAK_LEDGER ?= 1
$(ASAN_SUITES): asan-%: asan-build
	$(if $(LEAK_LEDGER),@rm -rf build/asan/leak-ledger/$* && mkdir -p build/asan/leak-ledger/$*)
	$(if $(LEAK_LEDGER),GITSEAL_TEST_LEAK_LEDGER=$(abspath build/asan/leak-ledger/$*)) $(MAKE) SAN=1 $*
	$(if $(LEAK_LEDGER),@scripts/leak_ledger.sh build/asan/leak-ledger/$*)

# The suites share nothing but the built binaries (every test works in a
# directory of its own), so make check runs them CHECK_SUITE_JOBS at a time,
# the longest first; each one's output is printed whole when it ends
# (-Otarget). One more than the cores (CHECK_JOBS, the builds' -j): a suite
# that waits (a test's sleep, a background process) leaves its core to the
# third; in the CI run of 8a8e313 the suites' wall time was about 65 s of a
# core above their CPU time, most of it asan-cli's and the git halves'.
CHECK_JOBS ?= 2
CHECK_SUITE_JOBS ?= $(shell expr $(CHECK_JOBS) + 1)
# The behaviour suites (cli, git, k8s) run once, on the test build under
# ASan+UBSan, which also has the hooks their out-of-memory and crash cases
# need; the release build, the one that ships, runs the unit files whose
# tests differ by build (release-unit), the golden files, the interop suite with the real peers, valgrind (memcheck),
# the packaging tests and the bats files whose checks hold for it alone
# (memory bounds, start-up, the real scrypt work factor). `make test` runs
# every suite on the release build. Longest first (CPU seconds each run
# prints, docs/development.md).
# Of age.bats, the two tests that differ by build (the real scrypt work
# factor, all 143 test-kit vectors); the rest runs under ASan (asan-cli).
RELEASE_BATS := tests/cli/limits.bats tests/cli/startup.bats
RELEASE_AGE  := scrypt-only|143 age test-kit vectors
CHECK_SUITES := asan-cli asan-gitsuite-2 asan-gitsuite-1 memcheck asan-k8s ship interop \
	release-bats asan-unit golden release-unit

release-bats: $(BUILD)/gitseal
	$(BATS) $(RELEASE_BATS)
	$(BATS) -f '$(RELEASE_AGE)' tests/cli/age.bats

# Cheap static checks, first in check:
# a negated bats check in mid-test asserts nothing (tests/lint_negations.sh),
# nor does the first command of an && list (tests/lint_and_lists.sh);
# plain allocations go through gitseal/alloc.h (tests/lint_alloc.sh).
lint:
	tests/lint_negations.sh
	tests/lint_and_lists.sh
	tests/lint_alloc.sh

# each suite's wall and CPU seconds (user + system of all its processes)
# printed as it ends: where make check's time goes, from every run
CHECK_TIMED := $(addprefix timed-,$(CHECK_SUITES))
.PHONY: $(CHECK_TIMED)
$(CHECK_TIMED): timed-%:
	@/usr/bin/time -f "check: $* took %e s wall, %U + %S s CPU" $(MAKE) --no-print-directory $*

# What the build needs comes first; the npm packages (only the suites use
# them: a fresh clone's npm install waited 10-20 s on the registry with
# both cores idle) and lint go beside the builds, and are waited for
# before the suites start.
check:
	@scripts/install-deps.sh --system
	@scripts/install-deps.sh --npm & npm=$$!; \
	$(MAKE) --no-print-directory lint & lint=$$!; \
	$(MAKE) -j$(CHECK_JOBS) all $(RELEASE_UNIT) && \
		$(MAKE) -j$(CHECK_JOBS) --no-print-directory asan-build; built=$$?; \
	wait $$npm || { echo "check: scripts/install-deps.sh --npm failed" >&2; exit 1; }; \
	wait $$lint || { echo "check: make lint failed (its messages above)" >&2; exit 1; }; \
	exit $$built
	$(MAKE) -j$(CHECK_SUITE_JOBS) -Otarget --no-print-directory $(CHECK_TIMED)
	@echo "check: all suites passed"

demo: deps all
	@scripts/demo.sh $(BUILD)/gitseal

bench: deps all
	@bench/run.sh $(BUILD)/gitseal

# libFuzzer targets, one per parser. FUZZ_SECONDS per target (default 30).
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-DGITSEAL_FUZZING \
	-D_GNU_SOURCE -Iinclude \
	$(GITSEAL_PROBE_CFLAGS) $(SONAMES)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

build/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)

fuzz: deps $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$n tests/fuzz/corpus/$$n; done

# rule 1 ("exit 0 means decrypt gives back exactly what you gave") against an
# independent oracle, every writing command over the shared corpora and their
# mutations: about 30 minutes on 2 shared cores, so not part of check (tests/redteam/rule1.py);
# then random three-way merges through git against a model merge
# (tests/redteam/merge.py, MERGE_CASES per store and flow; a short run is in gitsuite);
# then init's pins of subdirectories' .gitattributes against git's answers
# (tests/redteam/pins.py, PINS_CASES repositories; a short run is in tests/git/pins31.bats)
MERGE_CASES ?= 20
PINS_CASES ?= 500
redteam: $(BUILD)/gitseal
	python3 tests/redteam/rule1.py --bin $(BUILD)/gitseal --shared $(SHARED) $(REDTEAM_FLAGS)
	python3 tests/redteam/merge.py --bin $(BUILD)/gitseal --cases $(MERGE_CASES)
	python3 tests/redteam/pins.py --bin $(BUILD)/gitseal --cases $(PINS_CASES)

# ---- Shipping: version, man pages, completions, install, .deb, tarball ----
# `make install` honours PREFIX, DESTDIR, BINDIR, MANDIR and the completion
# directories below. VERSION comes from `git describe` (scripts/version.sh);
# a tarball made by `make dist` carries it in a VERSION file.
VERSION     := $(GITSEAL_PROBE_VERSION)
VERSION_EPOCH := $(GITSEAL_PROBE_EPOCH)
MAN_DATE    := $(shell date -u -d @$(VERSION_EPOCH) +%Y-%m-%d 2>/dev/null)
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
MAN_SRC     := $(sort $(wildcard man/*.1 man/*.5))
MAN_OUT     := $(MAN_SRC:man/%=$(BUILD)/man/%)
DIST_VERSION := $(subst -dirty,,$(VERSION))
DIST_NAME   := gitseal-$(DIST_VERSION)

.PHONY: man ship uninstall deb dist FORCE
all: $(MAN_OUT)
test: ship

# Rewritten only when the version changes, so main.o is rebuilt only then
# (a temporary file per make: the tests run make inside make).
$(GEN_DIR)/version.h: FORCE
	@mkdir -p $(dir $@)
	@tmp=$@.$$$$; printf '#define GITSEAL_VERSION "%s"\n' '$(VERSION)' >$$tmp; \
	if cmp -s $$tmp $@; then rm -f $$tmp; else mv $$tmp $@; fi
$(MAIN_OBJ): $(GEN_DIR)/version.h
$(MAIN_OBJ): CPPFLAGS += -I$(GEN_DIR)
FORCE:

man: $(MAN_OUT)

$(BUILD)/man/%: man/% scripts/build-man.sh docs/exit-codes.md $(GEN_DIR)/version.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  MAN     $@")
	$(Q)tmp=$@.$$$$; scripts/build-man.sh page '$(VERSION)' '$(MAN_DATE)' $< >$$tmp && mv $$tmp $@ || \
		{ rm -f $$tmp; exit 1; }

# Pages, links for the extra names in their NAME lines, completions.
install: all
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/man5" \
		"$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)" "$(DESTDIR)$(FISHCOMPDIR)"
	install -m 0755 $(BUILD)/gitseal "$(DESTDIR)$(BINDIR)/gitseal"
	install -m 0644 $(filter %.1,$(MAN_OUT)) "$(DESTDIR)$(MANDIR)/man1/"
	install -m 0644 $(filter %.5,$(MAN_OUT)) "$(DESTDIR)$(MANDIR)/man5/"
	scripts/build-man.sh aliases $(MAN_SRC) | while read -r alias page; do \
		ln -sf "$$page" "$(DESTDIR)$(MANDIR)/man$${page##*.}/$$alias" || exit 1; done
	install -m 0644 completions/gitseal.bash "$(DESTDIR)$(BASHCOMPDIR)/gitseal"
	install -m 0644 completions/_gitseal "$(DESTDIR)$(ZSHCOMPDIR)/_gitseal"
	install -m 0644 completions/gitseal.fish "$(DESTDIR)$(FISHCOMPDIR)/gitseal.fish"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/gitseal" "$(DESTDIR)$(BASHCOMPDIR)/gitseal" \
		"$(DESTDIR)$(ZSHCOMPDIR)/_gitseal" "$(DESTDIR)$(FISHCOMPDIR)/gitseal.fish"
	for page in $(notdir $(MAN_SRC)) $$(scripts/build-man.sh aliases $(MAN_SRC) | cut -d' ' -f1); do \
		rm -f "$(DESTDIR)$(MANDIR)/man$${page##*.}/$$page"; done

# build/gitseal_<version>_<arch>.deb, offline (scripts/make-deb.sh).
DEB_ROOT    := build/deb/debian/gitseal
# The package links libsodium and libyaml as shared libraries (STATIC_DEPS=0,
# linked apart in build/shared from the release build's objects), so that
# Debian's security updates reach it.
deb:
	rm -rf build/deb build/gitseal_*.deb
	$(MAKE) --no-print-directory BUILD=build/shared OBJ_DIR=build/obj GEN_DIR=build/gen STATIC_DEPS=0 install \
		DESTDIR="$(abspath $(DEB_ROOT))" PREFIX=/usr \
		ZSHCOMPDIR=/usr/share/zsh/vendor-completions >/dev/null
	scripts/make-deb.sh $(DEB_ROOT) '$(VERSION)' '$(VERSION_EPOCH)' build \
		$(LIBCRYPTO_SONAME) $(LIBGIT2_SONAME) $(LIBCURL_SONAME)

# build/gitseal-<version>.tar.gz: `git archive` of HEAD plus the VERSION
# file (uncommitted changes are not in it, nor in its version).
dist:
	@git diff-index --quiet HEAD -- 2>/dev/null || echo "dist: warning: uncommitted changes are left out" >&2
	@rm -rf build/dist && mkdir -p build/dist/$(DIST_NAME)
	echo '$(DIST_VERSION)' >build/dist/$(DIST_NAME)/VERSION
	git archive --format=tar --prefix=$(DIST_NAME)/ -o build/dist/$(DIST_NAME).tar HEAD
	tar -rf build/dist/$(DIST_NAME).tar -C build/dist --owner=0 --group=0 --numeric-owner \
		--mtime=@$(VERSION_EPOCH) $(DIST_NAME)/VERSION
	gzip -9n <build/dist/$(DIST_NAME).tar >build/$(DIST_NAME).tar.gz
	@rm -rf build/dist
	@echo build/$(DIST_NAME).tar.gz

# Pages, completions and packaging (tests/ship).
ship: $(BUILD)/gitseal $(MAN_OUT)
	GITSEAL_BUILD=$(abspath $(BUILD)) $(BATS) tests/ship

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
