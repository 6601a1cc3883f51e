# mk/checks.mk - the slower checks, included by the Makefile. CI runs them all
# after `make test` (.ci/run). Each build goes to its own directory under
# build/ (a second make with BIN and BUILD moved), so bin/ and its objects are
# never mixed with them. The variables are recursive (=): `make test` never
# evaluates them.

.PHONY: stress sanitize valgrind fuzz fuzz-available

# ---- make stress: full-size load, and make test on a busy machine -----

# The full-size versions of the load tests (100 clients x 100 commands, 1000
# pipelined commands, EINTR storms of 10 MB, every split offset through the
# proxy), then `make test` LOADED_RUNS times with every core kept busy:
# sticky-packet demos depend on timing, and one that passes only on an idle
# machine is flaky.
LOADED_RUNS ?= 3
stress: all ## full-size load tests, then make test on a loaded machine (minutes)
	@$(PYTHON) harness/run_tests.py --stress $(UNIT_TESTS)
	@$(PYTHON) harness/loaded_test.py $(LOADED_RUNS) $(MAKE) --no-print-directory test

# ---- make sanitize: the whole suite again under ASan + UBSan ----------

# clang if there is one (its UBSan and libFuzzer set the standard), else gcc;
# `make sanitize CC=gcc` or SAN_CC=... chooses.
HAVE_CLANG = $(shell command -v clang >/dev/null 2>&1 && echo clang)
SAN_CC     = $(if $(filter default,$(origin CC)),$(or $(HAVE_CLANG),gcc),$(CC))
SAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_DIR    = $(BUILD)/san
# The load tests take four times as long under ASan; `make test` runs their
# small versions, which still have 1 MB answers on stdout and on stderr.
# Any report ends the process with exit status 99 (never abort(): no core
# files), and every process the harness starts has its exit status checked;
# the harness also fails a test whose output holds a report. LeakSanitizer
# runs where ASan has it (not macOS, where asking for it is an error).
SAN_LEAKS  = detect_leaks=$(if $(filter Darwin,$(shell uname -s)),0,1)
SAN_ENV    = ASAN_OPTIONS=$(SAN_LEAKS):halt_on_error=1:abort_on_error=0:exitcode=99:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1 \
             UBSAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=99:print_stacktrace=1 \
             LSAN_OPTIONS=exitcode=99

# Build everything with ASan + UBSan, run every test against it (BIN_DIR
# tells the harness where the programs are), then replay the fuzz seeds
# through the fuzz target (a plain main(), so gcc builds it too).
sanitize: ## every program and test again, built with ASan + UBSan (build/san/)
	@$(MAKE) --no-print-directory CC='$(SAN_CC)' CFLAGS='$(SAN_CFLAGS)' \
	    BIN=$(SAN_DIR)/bin BUILD=$(SAN_DIR) all
	$(SAN_CC) $(WARN) $(SAN_CFLAGS) -DFUZZ_FRAME_MAIN -Isolution -o $(SAN_DIR)/fuzz_frame \
	    solution/fuzz_frame.c solution/frame.c
	$(SAN_ENV) $(SAN_DIR)/fuzz_frame solution/fuzz-corpus/*
	@$(SAN_ENV) BIN_DIR=$(SAN_DIR)/bin $(PYTHON) harness/run_tests.py \
	    $(patsubst $(BIN)/%,$(SAN_DIR)/bin/%,$(UNIT_TESTS))

# ---- make valgrind ----------------------------------------------------

# The framing unit tests, then the remote-shell end-to-end tests with both
# programs under valgrind: the server through RSH_SERVER_WRAPPER, the client
# through a two-line script in its place in build/vg/run/. Built apart with
# DWARF 4: valgrind 3.19 cannot read clang 14's default DWARF 5. Processes
# forked by a program stay under valgrind until they exec; what they exec
# (/bin/sh) is not traced.
VG_DIR     = $(BUILD)/vg
VG_CFLAGS  = -O1 -g -gdwarf-4
VALGRIND   = valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
             --trace-children=no
VG_TESTS  ?= test_rsh

valgrind: ## unit tests and remote-shell tests under valgrind (build/vg/)
	@command -v valgrind >/dev/null 2>&1 || \
	    { echo "make valgrind: valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)"; exit 1; }
	@$(MAKE) --no-print-directory CFLAGS='$(VG_CFLAGS)' BIN=$(VG_DIR)/bin BUILD=$(VG_DIR) all
	$(VALGRIND) $(VG_DIR)/bin/test_frame
	@mkdir -p $(VG_DIR)/run && ln -sf ../bin/rsh-server $(VG_DIR)/run/rsh-server && \
	printf '#!/bin/sh\nexec %s %s "$$@"\n' "$(VALGRIND)" "$(abspath $(VG_DIR))/bin/rsh-client" \
	    > $(VG_DIR)/run/rsh-client && chmod +x $(VG_DIR)/run/rsh-client && \
	RSH_SERVER_WRAPPER='$(VALGRIND)' BIN_DIR=$(VG_DIR)/run TESTS='$(VG_TESTS)' \
	    $(PYTHON) harness/run_tests.py

# ---- make fuzz --------------------------------------------------------

# solution/fuzz_frame.c under libFuzzer for FUZZ_SECONDS. New inputs go to
# build/fuzz/corpus (the seeds in solution/fuzz-corpus/ are only read); a
# failing input is saved as build/fuzz/crash-* (replay: build/fuzz/fuzz_frame
# FILE). Only frame.c gets the fuzzer's coverage instrumentation: the code
# under test steers the search, not the checks around it (and runs are faster).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -max_len=4096
FUZZ_DIR     = $(BUILD)/fuzz
FUZZ_SAN     = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_PROBE   = printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n < 0; }\n' | \
               $(FUZZ_CC) -fsanitize=fuzzer -x c -o $(FUZZ_DIR)/probe - >/dev/null 2>&1

fuzz-available: ## exit 0 if clang can build a libFuzzer target here
	@mkdir -p $(FUZZ_DIR)
	@$(FUZZ_PROBE) || { echo "$(FUZZ_CC) cannot build a libFuzzer target (-fsanitize=fuzzer): install clang"; exit 1; }

fuzz: fuzz-available ## libFuzzer on the frame reader for FUZZ_SECONDS (clang)
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer -c -o $(FUZZ_DIR)/frame.o solution/frame.c
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -Isolution -c -o $(FUZZ_DIR)/fuzz_frame.o solution/fuzz_frame.c
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $(FUZZ_DIR)/fuzz_frame $(FUZZ_DIR)/fuzz_frame.o $(FUZZ_DIR)/frame.o
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_frame $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus solution/fuzz-corpus
