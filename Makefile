# policyd — top-level build.
#
#   make            build build/policyctl, build/policyd-vpn (and the libraries)
#   make check      install missing packages, build with ASan+UBSan, run every test
#   make demo       install missing packages, build, run the lab demo in netns
#   make fuzz       build the libFuzzer targets (clang) into build/fuzz/
#   make install    honours DESTDIR and PREFIX
#
# B selects the build directory; the sanitizer build lives in build/san.

CC       ?= cc
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
DATADIR  ?= $(PREFIX)/share/policyd
B        ?= build

CPPFLAGS += -D_GNU_SOURCE -Irules -Ivpn -Ipolicyd
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -fno-strict-aliasing -fstack-protector-strong
LDLIBS   += -lnftnl -lmnl -lsodium -lcjson -lexpat -lpthread

SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

RULES_SRC := $(sort $(wildcard rules/*.c))
VPN_SRC   := $(sort $(filter-out vpn/main.c,$(wildcard vpn/*.c)))
COMMON_SRC := policyd/log.c policyd/file.c policyd/control.c policyd/control_client.c \
              policyd/sign.c policyd/keyfile.c
CTL_SRC   := policyd/policyctl.c
AUDIT_SRC := $(sort $(wildcard policyd/audit/*.c))
POLICYD_SRC := policyd/policyd.c policyd/reload.c policyd/confirm.c policyd/serve.c policyd/ctlsock.c \
               policyd/breakglass.c policyd/guard.c
DAEMON_SRC := policyd/link.c policyd/mesh.c policyd/importwg.c \
              $(sort $(wildcard policyd/quarantine/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c tests/unit/*/*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIBRULES  := $(B)/librules.a
LIBVPN    := $(B)/libvpn.a
LIBCOMMON := $(B)/libcommon.a
LIBDAEMON := $(B)/libdaemon.a
LIBAUDIT  := $(B)/libaudit.a
PROGS     := $(B)/policyctl $(B)/policyd-vpn $(B)/policyd
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))

.PHONY: all deps check demo fuzz install clean san unit bench rekey
all: $(PROGS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBRULES): $(call obj,$(RULES_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBVPN): $(call obj,$(VPN_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBDAEMON): $(call obj,$(DAEMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBAUDIT): $(call obj,$(AUDIT_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/policyctl: $(call obj,$(CTL_SRC)) $(LIBAUDIT) $(LIBDAEMON) $(LIBRULES) $(LIBVPN) $(LIBCOMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/unit/%: tests/unit/%.c $(LIBAUDIT) $(LIBDAEMON) $(LIBRULES) $(LIBVPN) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -Wno-missing-prototypes -MMD -MP -MF $@.d -o $@ $(filter %.c %.a,$^) $(LDLIBS) -lcmocka

$(B)/policyd: $(call obj,$(POLICYD_SRC)) $(LIBDAEMON) $(LIBRULES) $(LIBVPN) $(LIBCOMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/policyd-vpn: $(call obj,vpn/main.c) $(LIBVPN) $(LIBCOMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BINS)

bench: $(B)/bench/incr $(B)/bench/handshake $(B)/bench/reload
$(B)/bench/handshake: bench/handshake.c $(LIBVPN) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bench/incr: bench/incr.c $(LIBRULES) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bench/reload: bench/reload.c $(LIBRULES) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

# ---- packages ---------------------------------------------------------------
# Everything the build, the tests and the demo need, from Debian's archive.
DEB_PKGS = gcc make libc6-dev pkg-config libnftnl-dev libmnl-dev libsodium-dev \
           libcjson-dev libcmocka-dev nftables nmap iperf3 iproute2 python3 \
           python3-jsonschema openssh-server openssh-client wireguard-go \
           wireguard-tools clang libclang-rt-14-dev procps psmisc time tcpdump \
           iputils-ping libexpat1-dev strace systemd
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  [ "$$(id -u)" = 0 ] || { echo "make deps: need root to install:$$missing" >&2; exit 1; }; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

# ---- sanitizer build and tests -------------------------------------------------
san:
	$(MAKE) B=build/san CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
	  build/san/policyctl build/san/policyd-vpn build/san/policyd unit

# policyd-vpn with every protocol time divided by 40 (rekey every 3 s), for
# tests/netns/40-rekey.sh only
rekey:
	$(MAKE) B=build/rekey CFLAGS="-O2 -g -DVPN_FAST_TIMERS=40" build/rekey/policyd-vpn

check: deps
	$(MAKE) san
	$(MAKE) rekey
	$(MAKE) fuzz
	B=build/san tests/run.sh

demo: deps all
	tests/netns/demo.sh

# ---- fuzzing (libFuzzer, clang) ----------------------------------------------
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
fuzz:
	$(MAKE) B=build/fuzzlib CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
	  build/fuzzlib/libaudit.a build/fuzzlib/libdaemon.a build/fuzzlib/librules.a \
	  build/fuzzlib/libvpn.a build/fuzzlib/libcommon.a
	@mkdir -p build/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$f -> build/fuzz/$$n"; \
	  clang $(CPPFLAGS) -std=c11 -Wall -Wextra -Werror $(FUZZ_CFLAGS) -o build/fuzz/$$n $$f \
	    build/fuzzlib/libaudit.a build/fuzzlib/libdaemon.a build/fuzzlib/librules.a build/fuzzlib/libvpn.a build/fuzzlib/libcommon.a $(LDLIBS) || exit 1; \
	done

# ---- install -------------------------------------------------------------------
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR)
	install -m 0644 policyd/dist/policyd.8 policyd/dist/policyctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 policyd/dist/policy.json.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|/usr/local/sbin|$(SBINDIR)|' policyd/dist/policyd.service \
	  >$(DESTDIR)$(UNITDIR)/policyd.service && chmod 0644 $(DESTDIR)$(UNITDIR)/policyd.service
	install -m 0755 $(B)/policyctl $(DESTDIR)$(SBINDIR)/policyctl
	install -m 0755 $(B)/policyd-vpn $(DESTDIR)$(SBINDIR)/policyd-vpn
	install -m 0755 $(B)/policyd $(DESTDIR)$(SBINDIR)/policyd
	install -m 0644 schemas/policy.schema.json $(DESTDIR)$(DATADIR)/policy.schema.json

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
