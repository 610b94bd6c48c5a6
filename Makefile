# siphon - a terminal download manager.  Plain GNU make, pkg-config for libraries.
#   make deps     install the Debian packages the build, tests and demo need
#   make          build ./siphon
#   make test     check-deps, then the whole suite: unit, e2e, tui, install-test
#   make asan     the same suite under AddressSanitizer + UBSan
#   make demo     deps, build, then siphon on a demo list from a local server
#   make install  binary, siphon.1, themes, completions (PREFIX, DESTDIR, ...)
#   make uninstall    remove exactly what make install put there
#   make check-deps   the include rules of DESIGN.md
#   make fuzz     libFuzzer runs of the list loaders
#   make bench    siphon beside curl, aria2c and wget2 on a local nginx

# Where make install puts things: the GNU names, each overridable
# (make install PREFIX=/usr DESTDIR=/tmp/stage).  DATADIR is compiled into
# the binary: it looks for its themes in $(DATADIR)/siphon/themes.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
INSTALL ?= install
INSTALL_PROGRAM ?= $(INSTALL)
INSTALL_DATA    ?= $(INSTALL) -m 644

CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS    := libcurl libuv ncursesw inih libcrypto
PYTHON  ?= /usr/bin/python3
BUILD   ?= build
SAN     ?=
OPT     ?= -O2 -g

# CPPFLAGS: -I and -D; CFLAGS: the compiler's; both keep what the
# environment gives.  pkg-config's flags are recursive (=) variables, so it
# runs when a recipe needs them, after `make deps` in `make deps test`.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
CPPFLAGS += -Iinclude -D_GNU_SOURCE $(PKG_CFLAGS)
CFLAGS   += $(OPT) -std=c11 -Wall -Wextra -Wshadow $(SAN)
DEPFLAGS := -MMD -MP
LDFLAGS  += $(SAN)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

MAIN_OBJ := $(BUILD)/src/main.o
LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
THEMES   := $(wildcard themes/*.ini)
MANPAGE  := doc/siphon.1

DEB_PKGS := build-essential pkg-config libcurl4-openssl-dev libuv1-dev libncurses-dev \
            libinih-dev libcriterion-dev libssl-dev python3 python3-pytest tmux clang strace \
            libclang-rt-14-dev
# install-test: the shells that parse the completions, the page's linters
DEB_PKGS += zsh fish bash-completion mandoc man-db
# the network tests: real servers (nginx with TLS + HTTP/2, proxies, stunnel as the TLS
# front of an https:// proxy) and certificates
DEB_PKGS += nginx-light tinyproxy microsocks openssl stunnel4

.PHONY: all deps test unit e2e tui install-test asan demo check-deps fuzz bench clean \
        install uninstall pkg-check FORCE

all: siphon

siphon: $(BUILD)/siphon
	cp $< $@

$(BUILD)/siphon: $(MAIN_OBJ) $(BUILD)/libsiphon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libsiphon.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# Each object also writes a .d file naming the headers it read (-MMD; -MP
# adds empty rules, so a deleted header is no error); they are included at
# the end, so touching a header rebuilds exactly the objects that use it.
$(BUILD)/%.o: %.c | pkg-check
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# The theme search path comes from BINDIR and DATADIR; $(BUILD)/paths
# changes only when they do, and theme.o is rebuilt then.
DATADIR_REL = $(shell realpath -m -s --relative-to=$(BINDIR) $(DATADIR))
$(BUILD)/src/ui/theme.o: CPPFLAGS += -DSIPHON_DATADIR='"$(DATADIR)"' \
                                     -DSIPHON_DATADIR_REL='"$(DATADIR_REL)"'
$(BUILD)/src/ui/theme.o: $(BUILD)/paths
$(BUILD)/paths: FORCE
	@mkdir -p $(@D)
	@echo '$(BINDIR) $(DATADIR)' | cmp -s - $@ || echo '$(BINDIR) $(DATADIR)' > $@

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libsiphon.a
	$(call need-pc,criterion)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell $(PKG_CONFIG) --libs criterion)

# $(call need-pc,NAMES): stop, naming each .pc file pkg-config cannot find.
need-pc = @command -v $(PKG_CONFIG) >/dev/null || \
	  { echo "no $(PKG_CONFIG) (PKG_CONFIG): run 'make deps'" >&2; exit 1; }; \
	missing=; for p in $(1); do $(PKG_CONFIG) --exists $$p || missing="$$missing $$p.pc"; done; \
	if [ -n "$$missing" ]; then \
	  echo "$(PKG_CONFIG) cannot find$$missing: run 'make deps' (Debian), or set PKG_CONFIG_PATH" >&2; \
	  exit 1; fi

pkg-check:
	$(call need-pc,$(PKGS))

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

# make install into a temporary DESTDIR (its own build), the page and the
# completions against --help.
install-test: $(BUILD)/siphon
	SIPHON_BIN=$(abspath $(BUILD)/siphon) $(PYTHON) -m pytest -q tests/install

# FUZZ_TIME=0 skips the short libFuzzer run (make asan does: the fuzzers
# already run under ASan).
FUZZ_TIME ?= 10
test: check-deps unit e2e tui install-test
	@if [ "$(FUZZ_TIME)" != 0 ]; then $(MAKE) --no-print-directory -C tests/fuzz FUZZ_TIME=$(FUZZ_TIME); fi

asan:
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SIPHON_ASAN=1 \
	  $(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	  OPT="-O1 -g" FUZZ_TIME=0 test

# The demo list has items that fail on purpose, so siphon's exit 1 is fine.
demo: deps siphon
	$(PYTHON) tests/server/demo.py $(abspath siphon) || [ $$? -eq 1 ]

# DESIGN.md "Who may include whom", and no call cycle between the engine's
# files (tests/deps/calls.py: engine.c is the top, calls go one way).
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
	$(PYTHON) tests/deps/calls.py src/engine || bad=1; \
	if [ $$bad = 0 ]; then echo "check-deps: ok"; else exit 1; fi

# DESTDIR stages the whole tree (packaging, the tests); nothing is built
# here that `make` did not build, but the binary is rebuilt if PREFIX,
# BINDIR or DATADIR differ from the build's (they are compiled in).
install: $(BUILD)/siphon
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/siphon/themes \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL_PROGRAM) $(BUILD)/siphon $(DESTDIR)$(BINDIR)/siphon
	$(INSTALL_DATA) $(THEMES) $(DESTDIR)$(DATADIR)/siphon/themes/
	$(call install-sed,$(MANPAGE),$(MANDIR)/man1/siphon.1)
	$(call install-sed,completions/siphon.bash,$(BASHCOMPDIR)/siphon)
	$(call install-sed,completions/_siphon,$(ZSHCOMPDIR)/_siphon)
	$(call install-sed,completions/siphon.fish,$(FISHCOMPDIR)/siphon.fish)

# $(call install-sed,SRC,DEST): SRC, mode 644, told where this install's
# themes are (the completions' @DATADIR@ and @DATADIR_REL@, the page's
# default /usr/local/share/siphon).
install-sed = sed -e 's|@DATADIR@|$(DATADIR)|g' -e 's|@DATADIR_REL@|$(DATADIR_REL)|g' \
	  -e 's|/usr/local/share/siphon|$(DATADIR)/siphon|g' $(1) > $(DESTDIR)$(2).tmp && \
	  chmod 644 $(DESTDIR)$(2).tmp && mv $(DESTDIR)$(2).tmp $(DESTDIR)$(2)

# Exactly what install put there; only siphon's own directories go.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/siphon $(DESTDIR)$(MANDIR)/man1/siphon.1 \
	  $(DESTDIR)$(BASHCOMPDIR)/siphon $(DESTDIR)$(ZSHCOMPDIR)/_siphon \
	  $(DESTDIR)$(FISHCOMPDIR)/siphon.fish \
	  $(addprefix $(DESTDIR)$(DATADIR)/siphon/themes/,$(notdir $(THEMES)))
	rmdir $(DESTDIR)$(DATADIR)/siphon/themes $(DESTDIR)$(DATADIR)/siphon 2>/dev/null || true

fuzz:
	$(MAKE) -C tests/fuzz

bench: siphon
	bash tests/bench/run.sh

clean:
	rm -rf build build-asan siphon

-include $(MAIN_OBJ:.o=.d) $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
