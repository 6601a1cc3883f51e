# Sticky packets (粘包 / 拆包): demos of TCP's missing message boundaries, and the fix.
#   make demo-1 .. make demo-10  run one demo (server and client)
#   make test                    build with warnings as errors, run every test
#   make help                    list the demos
#   make sanitize                the whole suite again, built with ASan + UBSan (build/san/)
#   make valgrind                unit tests and remote-shell tests under valgrind (build/vg/)
#   make fuzz                    libFuzzer on the frame reader for FUZZ_SECONDS (clang)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror
ALL_CFLAGS = $(WARN) $(CFLAGS)
PYTHON  ?= python3

BIN     := bin
BUILD   := build

DEMOS   := $(sort $(notdir $(wildcard demos/[0-9][0-9]-*)))
# demos/NN-name/server.c -> bin/NN-name-server, fixed-client.c -> bin/NN-name-fixed-client
# (a demo may reuse another demo's client)
DEMO_SRCS  := $(wildcard demos/[0-9][0-9]-*/*.c)
DEMO_PROGS := $(foreach f,$(DEMO_SRCS),$(BIN)/$(notdir $(patsubst %/,%,$(dir $(f))))-$(basename $(notdir $(f))))

COMMON_OBJ := $(BUILD)/demo.o
FRAME_OBJ  := $(BUILD)/frame.o
SOL_PROGS  := $(BIN)/rsh-server $(BIN)/rsh-client
UNIT_TESTS := $(BIN)/test_frame

PROGS := $(DEMO_PROGS) $(filter $(SOL_PROGS),$(patsubst solution/%.c,$(BIN)/%,$(wildcard solution/rsh-*.c))) \
         $(filter $(UNIT_TESTS),$(patsubst solution/%.c,$(BIN)/%,$(wildcard solution/test_*.c)))

# demos/01-coalesce -> make demo-1
DEMO_NUMS  := $(patsubst 0%,%,$(foreach d,$(DEMOS),$(firstword $(subst -, ,$(d)))))
DEMO_GOALS := $(addprefix demo-,$(DEMO_NUMS))

.PHONY: all help demo test sanitize valgrind fuzz fuzz-available clean $(DEMO_GOALS)

all: $(PROGS)

help demo:
	@echo "Sticky-packet demos (each runs its server and client):"
	@$(PYTHON) harness/rundemo.py --list | sed 's/^/  /'
	@echo "Other targets: make (build all), make test, make sanitize, make valgrind, make fuzz, make clean"

$(DEMO_GOALS): demo-%: all
	@$(PYTHON) harness/rundemo.py $*

$(BUILD) $(BIN):
	@mkdir -p $@

$(BUILD)/demo.o: demos/common/demo.c demos/common/demo.h solution/frame.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -Isolution -c -o $@ $<

$(BUILD)/frame.o: solution/frame.c solution/frame.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Each demo program is one .c file: server.c, client.c, fixed-server.c, fixed-client.c.
DEMO_LINK = $(CC) $(ALL_CFLAGS) -Idemos/common -Isolution -o $@ $< $(COMMON_OBJ) $(FRAME_OBJ)
DEMO_DEPS = $(COMMON_OBJ) $(FRAME_OBJ) demos/common/demo.h solution/frame.h | $(BIN)

$(BIN)/%-fixed-server: demos/%/fixed-server.c $(DEMO_DEPS)
	$(DEMO_LINK)
$(BIN)/%-fixed-client: demos/%/fixed-client.c $(DEMO_DEPS)
	$(DEMO_LINK)
$(BIN)/%-server: demos/%/server.c $(DEMO_DEPS)
	$(DEMO_LINK)
$(BIN)/%-client: demos/%/client.c $(DEMO_DEPS)
	$(DEMO_LINK)

$(BIN)/rsh-server: $(wildcard solution/rsh-server*.c) $(FRAME_OBJ) solution/frame.h | $(BIN)
	$(CC) $(ALL_CFLAGS) -Isolution -o $@ $(wildcard solution/rsh-server*.c) $(FRAME_OBJ)

$(BIN)/rsh-client: $(wildcard solution/rsh-client*.c) $(FRAME_OBJ) solution/frame.h | $(BIN)
	$(CC) $(ALL_CFLAGS) -Isolution -o $@ $(wildcard solution/rsh-client*.c) $(FRAME_OBJ)

$(BIN)/test_frame: solution/test_frame.c $(FRAME_OBJ) solution/frame.h | $(BIN)
	$(CC) $(ALL_CFLAGS) -Isolution -o $@ $< $(FRAME_OBJ)

# make test: one closing line "N passed, N failed", non-zero exit on any failure.
test: all
	@$(PYTHON) harness/run_tests.py $(filter $(UNIT_TESTS),$(PROGS))

# ---- the same suite under ASan + UBSan, under valgrind, and a fuzzer ----
# Each build goes to its own directory under build/ (a second make with BIN
# and BUILD moved), so bin/ and its objects are never mixed with them.
# The variables are recursive (=): `make test` never evaluates them.

# clang if there is one (its UBSan and libFuzzer set the standard), else gcc;
# `make sanitize CC=gcc` or SAN_CC=... chooses.
HAVE_CLANG = $(shell command -v clang >/dev/null 2>&1 && echo clang)
SAN_CC     = $(if $(filter default,$(origin CC)),$(or $(HAVE_CLANG),gcc),$(CC))
SAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_DIR    = $(BUILD)/san
# The load test's 100 clients x 100 commands take four times as long under
# ASan; 100 x 20 (100 x 10 under valgrind) still has 1 MB answers on stdout
# and on stderr.
SAN_LOAD  ?= 20
# Any report ends the process with exit status 99 (never abort(): no core
# files), and every process the harness starts has its exit status checked;
# the harness also fails a test whose output holds a report. LeakSanitizer
# runs where ASan has it (not macOS, where asking for it is an error).
SAN_LEAKS  = detect_leaks=$(if $(filter Darwin,$(shell uname -s)),0,1)
SAN_ENV    = ASAN_OPTIONS=$(SAN_LEAKS):halt_on_error=1:abort_on_error=0:exitcode=99:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1 \
             UBSAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=99:print_stacktrace=1 \
             LSAN_OPTIONS=exitcode=99

# make sanitize: build everything with ASan + UBSan, run every test against it
# (BIN_DIR tells the harness where the programs are), then replay the fuzz
# seeds through the fuzz target (a plain main(), so gcc builds it too).
sanitize:
	@$(MAKE) --no-print-directory CC='$(SAN_CC)' CFLAGS='$(SAN_CFLAGS)' \
	    BIN=$(SAN_DIR)/bin BUILD=$(SAN_DIR)/obj all
	$(SAN_CC) $(WARN) $(SAN_CFLAGS) -DFUZZ_FRAME_MAIN -Isolution -o $(SAN_DIR)/fuzz_frame \
	    solution/fuzz_frame.c solution/frame.c
	$(SAN_ENV) $(SAN_DIR)/fuzz_frame solution/fuzz-corpus/*
	@$(SAN_ENV) BIN_DIR=$(SAN_DIR)/bin RSH_LOAD_COMMANDS=$(SAN_LOAD) $(PYTHON) harness/run_tests.py \
	    $(patsubst $(BIN)/%,$(SAN_DIR)/bin/%,$(filter $(UNIT_TESTS),$(PROGS)))

# make valgrind: the framing unit tests, then the remote-shell end-to-end
# tests with both programs under valgrind: the server through
# RSH_SERVER_WRAPPER, the client through a two-line script in its place in
# build/vg/run/. Built apart with DWARF 4: valgrind 3.19 cannot read clang
# 14's default DWARF 5. Processes forked by a program stay under valgrind
# until they exec; what they exec (/bin/sh) is not traced.
VG_DIR     = $(BUILD)/vg
VG_CFLAGS  = -O1 -g -gdwarf-4
VALGRIND   = valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
             --trace-children=no
VG_TESTS  ?= test_rsh
VG_LOAD   ?= 10

valgrind:
	@command -v valgrind >/dev/null 2>&1 || \
	    { echo "make valgrind: valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)"; exit 1; }
	@$(MAKE) --no-print-directory CFLAGS='$(VG_CFLAGS)' BIN=$(VG_DIR)/bin BUILD=$(VG_DIR)/obj all
	$(VALGRIND) $(VG_DIR)/bin/test_frame
	@if [ ! -x $(VG_DIR)/bin/rsh-server ]; then echo "make valgrind: no rsh-server here to test"; exit 0; fi; \
	mkdir -p $(VG_DIR)/run && ln -sf ../bin/rsh-server $(VG_DIR)/run/rsh-server && \
	printf '#!/bin/sh\nexec %s %s "$$@"\n' "$(VALGRIND)" "$(abspath $(VG_DIR))/bin/rsh-client" \
	    > $(VG_DIR)/run/rsh-client && chmod +x $(VG_DIR)/run/rsh-client && \
	RSH_SERVER_WRAPPER='$(VALGRIND)' BIN_DIR=$(VG_DIR)/run TESTS='$(VG_TESTS)' RSH_LOAD_COMMANDS=$(VG_LOAD) \
	    $(PYTHON) harness/run_tests.py

# make fuzz: solution/fuzz_frame.c under libFuzzer for FUZZ_SECONDS. New inputs
# go to build/fuzz/corpus (the seeds in solution/fuzz-corpus/ are only read);
# a failing input is saved as build/fuzz/crash-* (replay: build/fuzz/fuzz_frame FILE).
# Only frame.c gets the fuzzer's coverage instrumentation: the code under
# test steers the search, not the checks around it (and runs are faster).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -max_len=4096
FUZZ_DIR     = $(BUILD)/fuzz
FUZZ_SAN     = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_PROBE   = printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n < 0; }\n' | \
               $(FUZZ_CC) -fsanitize=fuzzer -x c -o $(FUZZ_DIR)/probe - >/dev/null 2>&1

fuzz-available:
	@mkdir -p $(FUZZ_DIR)
	@$(FUZZ_PROBE) || { echo "$(FUZZ_CC) cannot build a libFuzzer target (-fsanitize=fuzzer): install clang"; exit 1; }

fuzz: fuzz-available
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer -c -o $(FUZZ_DIR)/frame.o solution/frame.c
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -Isolution -c -o $(FUZZ_DIR)/fuzz_frame.o solution/fuzz_frame.c
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $(FUZZ_DIR)/fuzz_frame $(FUZZ_DIR)/fuzz_frame.o $(FUZZ_DIR)/frame.o
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_frame $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus solution/fuzz-corpus

clean:
	rm -rf $(BIN) $(BUILD)
