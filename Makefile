# pd — GNU Make build.  `make` builds libpd and the commands; `make check`
# installs what is missing, builds, starts private PostgreSQL and Redis and
# runs every test; `make demo` runs the whole pipeline on built-in data.
#
# Options: WERROR=1 (warnings are errors; CI), SANITIZE=address,undefined,
# CFLAGS/LDFLAGS are appended to ours, prefix/DESTDIR for install.

prefix ?= /usr/local
bindir = $(prefix)/bin
mandir = $(prefix)/share/man
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS = libcjson libpq hiredis libcurl openblas lapacke zlib gsl
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARNINGS = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wwrite-strings -Wpointer-arith -Wno-unused-parameter
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
# A sanitized build also checks float-to-integer casts (float-cast-overflow is
# not part of -fsanitize=undefined, in GCC or clang).
SAN_FLAGS =
ifneq ($(SANITIZE),)
SAN_FLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ifneq ($(findstring undefined,$(SANITIZE)),)
SAN_FLAGS += -fsanitize=float-cast-overflow
endif
endif

BASE_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -pthread
ALL_CFLAGS = $(BASE_CFLAGS) $(WARNINGS) $(SAN_FLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread $(SAN_FLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lcsv -lm

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=build/%.o)
CMD_SRC := $(sort $(wildcard cmd/pd-*.c))
CLI_SRC := $(filter-out $(CMD_SRC),$(sort $(wildcard cmd/*.c)))
CLI_OBJ := $(CLI_SRC:%.c=build/%.o)
BINS := $(CMD_SRC:cmd/%.c=bin/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
DRIVER_SRC := $(sort $(wildcard tests/drivers/*.c))
DRIVER_BINS := $(DRIVER_SRC:tests/drivers/%.c=build/drivers/%)
MANS := $(sort $(wildcard man/*.1))

all: $(BINS)

# a stamp so that a change of flags rebuilds everything
build/FLAGS: FORCE
	@mkdir -p build
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' > build/FLAGS.new
	@cmp -s build/FLAGS.new build/FLAGS || mv build/FLAGS.new build/FLAGS
	@rm -f build/FLAGS.new

build/%.o: %.c build/FLAGS
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

build/libpd.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# what the commands share (cmd/cli.c, cmd/ahead.c): linked as needed
build/libcli.a: $(CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^

bin/%: build/cmd/%.o build/libcli.a build/libpd.a
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

build/tests/%: build/tests/unit/%.o build/libpd.a
	@mkdir -p build/tests
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $$($(PKG_CONFIG) --libs cmocka)

# test drivers: small programs the command tests run against libpd, built
# with the same flags (a SANITIZE build gets sanitized drivers too)
build/drivers/%: build/tests/drivers/%.o build/libpd.a
	@mkdir -p build/drivers
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

unit: $(UNIT_BINS) $(DRIVER_BINS)

# Set-up: install what is missing (Debian packages, pgvector), then build.
# PD_NO_INSTALL=1 skips the installer (a machine set up by other means).
deps:
ifneq ($(PD_NO_INSTALL),1)
	scripts/install-deps
endif

# the fuzzers are built here when clang is there (tests/t1710-fuzz.sh fails
# loudly when it is not)
check: deps
	$(MAKE) --no-print-directory all unit $(if $(shell command -v $(FUZZ_CC)),fuzz-bins)
	tests/run

# only the tests, no installer (a developer's quick loop); T='t01*' selects
check-only: all unit
	tests/run $(T)

# the whole suite under ASan and UBSan (with float-cast-overflow), built with
# each compiler of SAN_CCS in turn (GCC, then clang); prints each run's time.
# It leaves the last sanitized build in bin/ (plain `make` rebuilds).
SAN_CCS = gcc clang
check-sanitize: deps
	@fail=0; for cc in $(SAN_CCS); do \
		start=$$(date +%s); \
		$(MAKE) --no-print-directory CC=$$cc SANITIZE=address,undefined all unit || exit 1; \
		tests/run $(T) || fail=1; \
		echo "check-sanitize: CC=$$cc SANITIZE=address,undefined: $$(( $$(date +%s) - start ))s"; \
	done; exit $$fail

demo: deps
	$(MAKE) --no-print-directory all
	scripts/demo

# the real-data evaluation of findings (QUALITY.md): trained on the older 70%,
# tested on the newest 30%; EVAL_SEEDS chooses the clustering seeds
eval: deps
	$(MAKE) --no-print-directory all eval-bins
	scripts/eval

bench: deps
	scripts/install-deps --bench
	$(MAKE) --no-print-directory all bench-bins
	scripts/bench

# libFuzzer targets (tests/fuzz/fuzz_*.c), always built with clang, ASan and
# UBSan (float-cast-overflow too), against a copy of the library compiled
# with coverage into build/fuzz/; web replies come from tests/fuzz/http_stub.c
# (pd_http_request and pd_http_many wrapped at link time).  `make fuzz` runs
# each target FUZZ_SECONDS (scripts/fuzz); `make check` runs them briefly
# (tests/t1710-fuzz.sh).
FUZZ_CC = clang
FUZZ_SECONDS = 120
FUZZ_SAN = -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g -pthread \
	$(WARNINGS) $(FUZZ_SAN) $(PKG_CFLAGS)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)

build/fuzz/FLAGS: FORCE
	@mkdir -p build/fuzz
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS) $(LIBS)' > build/fuzz/FLAGS.new
	@cmp -s build/fuzz/FLAGS.new build/fuzz/FLAGS || mv build/fuzz/FLAGS.new build/fuzz/FLAGS
	@rm -f build/fuzz/FLAGS.new

build/fuzz/obj/%.o: %.c build/fuzz/FLAGS
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/libpd.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o build/fuzz/obj/tests/fuzz/http_stub.o \
		build/fuzz/libpd.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -Wl,--wrap=pd_http_request \
		-Wl,--wrap=pd_http_many -o $@ $^ $(LIBS)

fuzz-bins: $(FUZZ_BINS)

fuzz: all fuzz-bins
	scripts/fuzz $(FUZZ_SECONDS)

# the hostile-input and fault sweep, written into RELIABILITY.md (scripts/reliability)
reliability: deps
	$(MAKE) --no-print-directory all unit fuzz-bins
	scripts/reliability --fuzz-seconds $(or $(RELIABILITY_FUZZ_SECONDS),10)

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1
	install -m 755 $(BINS) $(DESTDIR)$(bindir)
	install -m 644 $(MANS) $(DESTDIR)$(mandir)/man1

uninstall:
	rm -f $(addprefix $(DESTDIR)$(bindir)/,$(notdir $(BINS)))
	rm -f $(addprefix $(DESTDIR)$(mandir)/man1/,$(notdir $(MANS)))

clean:
	rm -rf build bin

.PHONY: all unit deps check check-only check-sanitize reliability demo eval eval-bins bench bench-bins fuzz fuzz-bins install uninstall clean FORCE
.SECONDARY:

-include $(LIB_OBJ:.o=.d) $(CMD_SRC:cmd/%.c=build/cmd/%.d) $(CLI_OBJ:.o=.d) \
	$(UNIT_SRC:tests/unit/%.c=build/tests/unit/%.d) \
	$(DRIVER_SRC:tests/drivers/%.c=build/tests/drivers/%.d) \
	$(patsubst tests/bench/%.c,build/tests/bench/%.d,$(wildcard tests/bench/*.c)) \
	$(patsubst tests/eval/%.c,build/tests/eval/%.d,$(wildcard tests/eval/*.c)) \
	$(FUZZ_LIB_OBJ:.o=.d) $(patsubst %.c,build/fuzz/obj/%.d,$(wildcard tests/fuzz/*.c))

# benchmark programs (make bench)
build/bench/%: build/tests/bench/%.o build/libpd.a
	@mkdir -p build/bench
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
BENCH_BINS := $(patsubst tests/bench/%.c,build/bench/%,$(wildcard tests/bench/*.c))
# scripts/bench-cluster's data comes from a test driver
bench-bins: $(BENCH_BINS) build/drivers/planted_vectors

# evaluation programs (make eval)
build/eval/%: build/tests/eval/%.o build/libpd.a
	@mkdir -p build/eval
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
EVAL_BINS := $(patsubst tests/eval/%.c,build/eval/%,$(wildcard tests/eval/*.c))
eval-bins: $(EVAL_BINS)
