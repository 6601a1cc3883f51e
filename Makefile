# Sticky packets (粘包 / 拆包): demos of TCP's missing message boundaries, and the fix.
#   make demo-1 .. make demo-4   run one demo (server and client)
#   make test                    build with warnings as errors, run every test
#   make help                    list the demos

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

.PHONY: all help demo test clean $(DEMO_GOALS)

all: $(PROGS)

help demo:
	@echo "Sticky-packet demos (each runs its server and client):"
	@$(PYTHON) harness/rundemo.py --list | sed 's/^/  /'
	@echo "Other targets: make (build all), make test, make clean"

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

clean:
	rm -rf $(BIN) $(BUILD)
