# Freestanding test guests (guests/README.md), included by the top-level
# Makefile. Each guest in GUEST_NAMES, a directory guests/NAME/ of .c/.S
# files, becomes $(BUILD)/guests/NAME.elf: a PVH ELF64 linked with the runtime in
# guests/runtime/, bootable by fbvm and by QEMU's -kernel alike.

GUEST_BUILD   := $(BUILD)/guests
GUEST_NAMES   := hello ramfb-demo ticks fault echo kbd-demo vga-demo poweroff exits
GUEST_ELFS    := $(GUEST_NAMES:%=$(GUEST_BUILD)/%.elf)
DEFAULT_GUEST := $(GUEST_BUILD)/ramfb-demo.elf

# Host gcc, freestanding. Ring-0 code must not touch SSE (PVM's emulator
# stops with "emulation failure"), and the runtime and guests share objects
# across rings, so everything is built with general registers only; ring 3
# could use SSE (the runtime sets CR4.OSFXSR) but drawing measured slower
# with it (guests/README.md). -fcf-protection=none keeps endbr64 out of ring 0.
GUEST_WARN    := -Wall -Wextra -Werror -Wframe-larger-than=8192 -Wvla -Walloca
GUEST_CFLAGS  := -std=gnu11 -O2 -g $(GUEST_WARN) \
	-ffreestanding -nostdlib -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-pic -fno-pie -static -mno-red-zone -mno-sse -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fcf-protection=none \
	-Iguests -MMD -MP
GUEST_LDSCRIPT := guests/runtime/guest.ld
GUEST_LDFLAGS := -nostdlib -nostartfiles -static -no-pie -Wl,-T,$(GUEST_LDSCRIPT) \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--build-id=none

guest_srcs = $(sort $(wildcard guests/$(1)/*.c guests/$(1)/*.S))
guest_objs = $(patsubst guests/%,$(GUEST_BUILD)/%.o,$(basename $(call guest_srcs,$(1))))

GUEST_RUNTIME_OBJS := $(call guest_objs,runtime)

.PHONY: guests
guests: $(GUEST_ELFS)

$(GUEST_BUILD)/%.o: guests/%.c guests/guests.mk
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_BUILD)/%.o: guests/%.S guests/guests.mk
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

define GUEST_template
$(GUEST_BUILD)/$(1).elf: $(GUEST_RUNTIME_OBJS) $(call guest_objs,$(1)) $(GUEST_LDSCRIPT)
	$$(CC) $(GUEST_LDFLAGS) -o $$@ $(GUEST_RUNTIME_OBJS) $(call guest_objs,$(1))
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_template,$(g))))

# stops: a standalone 32-bit ring-0 image (no runtime) that ends the VM in
# the way its command line names; tests check fbvm's exit status for each.
GUEST_ELFS += $(GUEST_BUILD)/stops.elf
guests: $(GUEST_BUILD)/stops.elf
$(GUEST_BUILD)/stops.elf: guests/stops/stops.S guests/stops/stops.ld guests/guests.mk
	@mkdir -p $(dir $@)
	$(CC) -m32 -nostdlib -nostartfiles -static -no-pie -fno-pic -Wl,-T,guests/stops/stops.ld \
		-Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ guests/stops/stops.S
