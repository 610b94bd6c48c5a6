# siphon - a terminal download manager.  Plain make, pkg-config for libraries.
#   make deps     install the Debian packages the build, tests and demo need
#   make          build ./siphon
#   make test     build and run the whole suite (unit, e2e, tui)
#   make asan     the same suite under AddressSanitizer + UBSan
#   make demo     deps, build, then siphon on a demo list from a local server
#   make check-deps   the include rules of DESIGN.md
#   make fuzz     libFuzzer runs of the list loaders
#   make bench    siphon beside curl, aria2c and wget2 on a local nginx

CC      ?= cc
PKGS    := libcurl libuv ncursesw inih libcrypto
PYTHON  ?= /usr/bin/python3
BUILD   ?= build
SAN     ?=
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Iinclude $(SAN) \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS += $(SAN)

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)

DEB_PKGS := build-essential pkg-config libcurl4-openssl-dev libuv1-dev libncurses-dev \
            libinih-dev libcriterion-dev libssl-dev python3 python3-pytest tmux clang strace \
            libclang-rt-14-dev

.PHONY: all deps test unit e2e tui asan demo check-deps fuzz bench clean

all: siphon

siphon: $(BUILD)/siphon
	cp $< $@

$(BUILD)/siphon: $(BUILD)/src/main.o $(BUILD)/libsiphon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libsiphon.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard include/siphon/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libsiphon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs criterion)

# Installs only what is missing; needs root (CI is root).
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all installed"; fi

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs 2

e2e: $(BUILD)/siphon
	SIPHON_BIN=$(abspath $(BUILD)/siphon) $(PYTHON) -m pytest -q tests/e2e

tui: $(BUILD)/siphon
	SIPHON_BIN=$(abspath $(BUILD)/siphon) $(PYTHON) -m pytest -q tests/tui

# FUZZ_TIME=0 skips the short libFuzzer run (make asan does: the fuzzers
# already run under ASan).
FUZZ_TIME ?= 10
test: check-deps $(BUILD)/siphon $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs 2
	SIPHON_BIN=$(abspath $(BUILD)/siphon) $(PYTHON) -m pytest -q tests/e2e tests/tui
	@if [ "$(FUZZ_TIME)" != 0 ]; then $(MAKE) --no-print-directory -C tests/fuzz FUZZ_TIME=$(FUZZ_TIME); fi

asan:
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SIPHON_ASAN=1 \
	  $(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	  OPT="-O1 -g" FUZZ_TIME=0 test

# The demo list has items that fail on purpose, so siphon's exit 1 is fine.
demo: deps siphon
	$(PYTHON) tests/server/demo.py $(abspath siphon) || [ $$? -eq 1 ]

# DESIGN.md "Who may include whom".
check-deps:
	@bad=0; \
	chk() { out=$$(grep -nE "$$2" $$1 2>/dev/null); if [ -n "$$out" ]; then echo "$$3:"; echo "$$out"; bad=1; fi; }; \
	chk "src/util/*.c" '#include [<"](curl|uv|curses|ncurses|ini|siphon/(msg|mbox|engine|cfg|ui|args|headless|json))' "util uses only libc"; \
	chk "src/msg.c include/siphon/msg.h" '#include [<"](curl|uv|curses|ncurses|ini\.h|siphon/(mbox|engine|cfg|ui|args|headless|json|dur|size|fname|xalloc|dlog))' "msg is plain data"; \
	chk "src/mbox.c" '#include [<"](curl|uv|curses|ncurses|ini\.h|siphon/(engine|cfg|ui|args|headless|json))' "mbox: msg, util, pthreads only"; \
	chk "src/cfg/*.c src/cli/args.c" '#include [<"](curl|uv|curses|ncurses|siphon/(engine|ui|mbox|headless|json))' "cfg and args: util and inih only"; \
	chk "src/engine/*.c src/engine/*.h" '#include [<"](curses|ncurses|siphon/(ui|args|headless|json))' "engine never touches the screen or cli"; \
	chk "src/ui/*.c src/ui/*.h" '#include [<"](curl|uv\.h|siphon/(engine|cfg|args|headless|json)|engine-int)' "ui never calls curl, uv or engine internals"; \
	chk "src/cli/headless.c src/cli/json.c" '#include [<"](curl|uv\.h|curses|ncurses|siphon/(engine|cfg|ui))' "headless and json: msg, mbox, util only"; \
	if [ $$bad = 0 ]; then echo "check-deps: ok"; else exit 1; fi

fuzz:
	$(MAKE) -C tests/fuzz

bench: siphon
	bash tests/bench/run.sh

clean:
	rm -rf build build-asan siphon
