# fbvm — see README.md. `make` builds, `make check` tests, `make run` boots the default guest.

BUILD     ?= build
CC        ?= gcc
SAN       ?= 0
PKG_CONFIG ?= pkg-config

VERSION := 0.1.0

# Libraries fbvm links; tests add cmocka and libvncclient.
FBVM_PKGS := zlib libvncserver sdl2 json-c libpng nettle
TEST_PKGS := cmocka

WARN_FLAGS := -Wall -Wextra -Werror -Wframe-larger-than=8192 -Wvla -Walloca
# Debian's gcc 12 does not enable stack-clash protection by default: without it
# one large frame can jump over a guard page into the stack mapped below.
HARDEN_FLAGS := -fstack-clash-protection -fstack-protector-strong
CFLAGS := -std=gnu11 -O2 -g $(WARN_FLAGS) $(HARDEN_FLAGS) -fstack-usage \
	-D_GNU_SOURCE -DFBVM_VERSION='"$(VERSION)"' -I. -MMD -MP
LDFLAGS :=
LDLIBS := -lpthread

ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pkg_libs = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

CFLAGS += $(call pkg_cflags,$(FBVM_PKGS))
FBVM_LIBS := $(call pkg_libs,$(FBVM_PKGS))

# Everything but main.c goes into a static library the unit tests link against.
LIB_SRCS := $(filter-out hypervisor/main.c,$(sort $(wildcard hypervisor/*.c stack/*.c devices/*.c display/*.c vnc/*.c sdl/*.c control/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libfbvm.a
FBVM     := $(BUILD)/fbvm

UNIT_TEST_SRCS := $(sort $(wildcard tests/test_*.c))
UNIT_TESTS     := $(UNIT_TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps check check-unit check-unit-asan check-integration run bench clean guests tools
.DEFAULT_GOAL := all

all: $(FBVM) guests tools

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The DSDT is ASL (hypervisor/acpi_dsdt.asl) that acpica-tools' iasl
# compiles into a C array (-tc), which hypervisor/acpi_dsdt.c includes.
ACPI_DSDT_HEX := $(BUILD)/gen/acpi_dsdt.hex
$(ACPI_DSDT_HEX): hypervisor/acpi_dsdt.asl
	@mkdir -p $(dir $@)
	iasl -vs -we -tc -p $(basename $@) $<
$(BUILD)/hypervisor/acpi_dsdt.o: $(ACPI_DSDT_HEX)
$(BUILD)/hypervisor/acpi_dsdt.o: CFLAGS += -I$(BUILD)/gen

$(FBVM): $(BUILD)/hypervisor/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(FBVM_LIBS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(TEST_PKGS)) $(FBVM_LIBS) $(LDLIBS)

$(BUILD)/tests/%.o: CFLAGS += $(call pkg_cflags,$(TEST_PKGS))

# Guest memory is written only through guest_mem_write & co., which mark the
# pages for the display tracker; the read translations return const pointers
# and this keeps devices and the hypervisor from casting that away.
$(BUILD)/hypervisor/%.o $(BUILD)/devices/%.o: CFLAGS += -Wcast-qual

-include guests/guests.mk
-include tools/tools.mk
-include tools/stack.mk
-include tools/install.mk
-include tools/linux.mk

# Installs missing Debian packages; does nothing (and uses no network) when all are present.
deps:
	@tools/deps.sh

# Every stage runs all its tests; the first failing stage stops `make check`.
# The closing line counts individual tests: "N passed, N failed".
RESULTS ?= $(abspath $(BUILD))/results.txt
export RESULTS

check: deps
	@rm -f $(RESULTS)
	$(MAKE) all
	$(MAKE) check-stack
	$(MAKE) check-unit
	$(MAKE) check-unit-asan
	$(MAKE) check-integration
	@tests/summary.sh $(RESULTS)

check-unit: $(UNIT_TESTS)
	@tests/run-unit.sh $(BUILD) $(UNIT_TESTS)

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
check-unit-asan:
	$(MAKE) BUILD=$(BUILD)/asan SAN=1 $(UNIT_TESTS:$(BUILD)/%=$(BUILD)/asan/%)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run-unit.sh $(BUILD)/asan $(UNIT_TESTS:$(BUILD)/%=$(BUILD)/asan/%)

check-integration: all
	@tests/run-integration.sh $(BUILD)

RUN_ARGS ?=
run: deps
	$(MAKE) all
	$(FBVM) run --kernel $(DEFAULT_GUEST) $(RUN_ARGS)

bench: deps
	$(MAKE) all
	@tools/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
