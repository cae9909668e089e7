# Stack budget (issue 6), included by the top-level Makefile once CFLAGS,
# LIB_OBJS and FBVM are set; `make check` runs check-stack. See README.md "Threads and stacks".
#   check-stack  the worst-case stack of every thread from gcc's call graph
#                plus library allowances; fails over 50% of a thread's stack
#                or on a frame of ours over 16 KiB (tools/stackcheck.py)
#   framescan    the largest frames of fbvm and of the libraries its vnc and
#                SDL threads call, and which could jump the guard
#                (tools/framescan.py)

# gcc writes DIR/NAME.ci beside each DIR/NAME.o (auxiliary outputs follow -o,
# like the .su and .d files): every function's frame and its calls. It
# changes no generated code, so the ASan build takes it too (its .ci files
# land in build/asan, unused).
CFLAGS += -fcallgraph-info=su

# Bind every library function at startup (full RELRO, Debian's "bindnow"
# hardening). Lazily bound, the first call of each one runs the dynamic
# linker's resolver on the calling thread's stack, and it saves the whole
# XSAVE state there (up to 11 KiB with AMX): on every thread, and on the
# alternate signal stack when the fault handler first calls abort() or
# dladdr(). stackcheck counts that cost for any object linked without it.
LDFLAGS += -Wl,-z,now

STACK_CACHE := $(BUILD)/stack
STACK_CI    := $(patsubst %.o,%.ci,$(LIB_OBJS) $(BUILD)/hypervisor/main.o)
# What the vnc, SDL and control threads call, whether or not fbvm links it yet.
STACK_SCAN_LIBS := libc.so.6 libvncserver.so.1 libz.so.1 libjpeg.so.62 libpng16.so.16 \
	libgnutls.so.30 libgcrypt.so.20 liblzo2.so.2 libSDL2-2.0.so.0 libjson-c.so.5

.PHONY: check-stack framescan

# A .ci is written together with its .o; an object compiled before this
# fragment was included has none: compile it again.
$(STACK_CI): $(BUILD)/%.ci: $(BUILD)/%.o
	@test -f $@ || { echo "  CC $< again, for its call graph"; \
		$(CC) $(CFLAGS) -c -o $< $*.c; }

# Records its result for the closing line of `make check` (tests/summary.sh).
check-stack: $(FBVM) $(STACK_CI)
	@python3 tools/stackcheck.py --build $(BUILD) --binary $(FBVM) $(STACK_CI); rc=$$?; \
	if [ -n "$(RESULTS)" ]; then \
		echo "static check-stack $$((rc == 0)) $$((rc != 0)) 0" >>"$(RESULTS)"; fi; \
	exit $$rc

framescan: $(FBVM)
	@python3 tools/framescan.py --cache $(STACK_CACHE) --top 10 $(FBVM) \
		$(foreach l,$(STACK_SCAN_LIBS),$(firstword $(shell /sbin/ldconfig -p | \
			sed -n 's|^[[:space:]]*$(l) (libc6,x86-64) => ||p')))
