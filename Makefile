# Sticky packets (粘包 / 拆包): demos of TCP's missing message boundaries, and the fix.
# `make help` lists every target. The everyday ones are here; the slower
# checks (sanitizers, valgrind, fuzzing, load) are in mk/checks.mk.

CC      ?= cc
CFLAGS  ?= -O2 -g
# -Werror is on for our builds and CI. A newer compiler than ours may warn
# about something new: `make WERROR=` builds anyway (the warnings stay).
WERROR  ?= -Werror
WARN    := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra $(WERROR)
ALL_CFLAGS = $(WARN) $(CFLAGS)
# -MMD -MP: each compile also writes which headers the file included
# (build/obj/....d), so touching a header rebuilds everything that uses it.
DEPFLAGS = -MMD -MP
PYTHON  ?= python3

BIN     := bin
BUILD   := build
OBJ     := $(BUILD)/obj

# Quiet by default: one short line per file (V=1 shows whole commands);
# QUIET=1 prints nothing but errors (make demo-N builds that way).
V ?=
QUIET ?=
ifeq ($(V),1)
  Q :=
  say :=
else
  Q := @
  say = $(if $(QUIET),,@printf '  %-4s %s\n' $(1) $(2);)
endif

# ---- what there is to build -------------------------------------------

# The framing library and what the programs share: solution/*.c that are
# not programs. A program is solution/P.c with its own main(); its helper
# files are solution/P-*.c (rsh-server.c + rsh-server-*.c).
SOL_PROGS   := rsh-server rsh-client echo-server echo-client test_frame
SOL_PROGSRC := $(foreach p,$(SOL_PROGS),$(wildcard solution/$(p).c solution/$(p)-*.c))
LIB_SRCS    := $(filter-out $(SOL_PROGSRC) solution/fuzz_frame.c,$(wildcard solution/*.c))
LIB_OBJS    := $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRCS))
LIB         := $(BUILD)/libsuite.a

# Every demo program shares demos/common (and the library), and the table of
# its sentences in other languages (lang/zh.txt, turned into C).
DEMO_LIB_SRCS := $(wildcard demos/common/*.c)
DEMO_LIB      := $(BUILD)/libdemo.a
LANG_OBJ      := $(OBJ)/gen/lang_zh.o

# demos/NN-name/server.c -> bin/NN-name-server, fixed-client.c -> bin/NN-name-fixed-client
DEMO_SRCS  := $(wildcard demos/[0-9][0-9]-*/*.c)
demo_prog   = $(BIN)/$(notdir $(patsubst %/,%,$(dir $(1))))-$(basename $(notdir $(1)))
DEMO_PROGS := $(foreach f,$(DEMO_SRCS),$(call demo_prog,$(f)))

# tools/NAME.c -> bin/NAME (helpers for testing programs: splitproxy, ...)
TOOL_SRCS  := $(wildcard tools/*.c)
TOOL_PROGS := $(patsubst tools/%.c,$(BIN)/%,$(TOOL_SRCS))

SOL_BINS   := $(patsubst %,$(BIN)/%,$(foreach p,$(SOL_PROGS),$(if $(wildcard solution/$(p).c),$(p))))
UNIT_TESTS := $(filter $(BIN)/test_%,$(SOL_BINS))
PROGS      := $(DEMO_PROGS) $(SOL_BINS) $(TOOL_PROGS)

# demos/01-coalesce -> make demo-1
DEMOS      := $(sort $(notdir $(wildcard demos/[0-9][0-9]-*)))
DEMO_NUMS  := $(patsubst 0%,%,$(foreach d,$(DEMOS),$(firstword $(subst -, ,$(d)))))
DEMO_GOALS := $(addprefix demo-,$(DEMO_NUMS))

.PHONY: all help test demo pictures grade bench clean $(DEMO_GOALS)

all: $(PROGS) ## build every program into bin/

help: ## list the demos and every target
	@$(PYTHON) harness/makehelp.py $(MAKEFILE_LIST)

demo: help

# make demo-N: build only what demo N runs, in one line, then run it.
# FULL=1 prints every line and byte; VERBOSE=1 every line; LIVE=40 runs the
# broken pair 40 times with nothing synchronised and counts what happened;
# STEP=1 stops before every recv (on a terminal) and asks what it will return.
DEMO_FLAGS = $(if $(FULL),--full) $(if $(VERBOSE),--verbose) $(if $(LIVE),--live $(LIVE)) \
             $(if $(STEP),--step)
$(DEMO_GOALS): demo-%: ## run demo N (LIVE=40: live runs; STEP=1: step by step; VERBOSE=1)
	@progs="$$($(PYTHON) harness/rundemo.py --programs $*)" || exit 2; \
	if ! $(MAKE) -q --no-print-directory $$progs 2>/dev/null; then \
	    echo "make: building the $$(echo $$progs | wc -w) programs of demo $* ($(CC))"; \
	    $(MAKE) -s --no-print-directory QUIET=1 $$progs || exit 2; \
	fi
	@$(PYTHON) harness/rundemo.py $* $(DEMO_FLAGS)

# make test: one closing line "N passed, N failed", non-zero exit on any failure.
test: all ## build with warnings as errors, run every test (seconds)
	@$(PYTHON) harness/run_tests.py $(UNIT_TESTS)

pictures: all ## pictures of every demo run for the projector (build/pictures/index.html)
	@$(PYTHON) harness/svgpic.py $(BUILD)/pictures

# make grade SERVER='python3 my_server.py {port}' (or CLIENT=...): a program of
# yours through the splitting proxy, scenario by scenario (harness/grade.py --help).
GRADE_FLAGS = $(if $(SERVER),--server '$(SERVER)') $(if $(CLIENT),--client '$(CLIENT)') \
              $(if $(ROLE),--role $(ROLE)) $(if $(PROTO),--proto '$(PROTO)') $(if $(ONLY),--only $(ONLY))
grade: all ## check your own program: make grade SERVER='python3 my_server.py {port}'
	@$(PYTHON) harness/grade.py $(GRADE_FLAGS)

bench: all ## every speed claim, measured against its floor (minutes; BENCH_QUICK=1: one round)
	@$(PYTHON) harness/bench.py

clean: ## remove what was built (bin/, build/)
	rm -rf $(BIN) $(BUILD)

# ---- how --------------------------------------------------------------

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Isolution -Idemos/common -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(DEMO_LIB): $(patsubst %.c,$(OBJ)/%.o,$(DEMO_LIB_SRCS)) $(LANG_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/gen/lang_zh.c: lang/zh.txt harness/i18n_gen.py harness/i18n.py
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)$(PYTHON) harness/i18n_gen.py lang/zh.txt > $@.tmp && mv $@.tmp $@

$(LANG_OBJ): $(BUILD)/gen/lang_zh.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The archives come last on the link line: the linker takes from them only
# the objects a program uses.
define demo_rule
$(call demo_prog,$(1)): $(OBJ)/$(1:.c=.o) $(DEMO_LIB) $(LIB)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)
	$$(Q)$$(CC) $$(ALL_CFLAGS) -o $$@ $$^
endef
$(foreach f,$(DEMO_SRCS),$(eval $(call demo_rule,$(f))))

define sol_rule
$(BIN)/$(1): $(patsubst %.c,$(OBJ)/%.o,$(wildcard solution/$(1).c solution/$(1)-*.c)) $(LIB)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)
	$$(Q)$$(CC) $$(ALL_CFLAGS) -o $$@ $$^
endef
$(foreach p,$(SOL_PROGS),$(eval $(call sol_rule,$(p))))

# A static pattern: through a plain pattern rule the tools' objects would be
# intermediate files, which make deletes after each build.
$(TOOL_PROGS): $(BIN)/%: $(OBJ)/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^

# The headers each object was built from (written by -MMD).
-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# ---- the slower checks: sanitize, valgrind, fuzz, stress --------------
include mk/checks.mk
