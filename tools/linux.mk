# Linux guest (included by the top-level Makefile):
#   make linux-guest   Debian's kernel and a busybox initramfs in $(BUILD)/linux
#                      (tools/linux-guest.sh: apt-get download, no install)
#   make run-linux     boots them; the serial console is this terminal
#                      (Ctrl-A x quits). LINUX_MEM, LINUX_CMDLINE and RUN_ARGS
#                      override the defaults.
# Under PVM (guest ring 0 emulated) a stock kernel takes far too long to
# boot; on hardware-virtualised KVM it boots in seconds.

LINUX_BUILD   := $(BUILD)/linux
LINUX_KERNEL  := $(LINUX_BUILD)/vmlinuz
LINUX_INITRD  := $(LINUX_BUILD)/initramfs.cpio.gz
LINUX_MEM     ?= 512M
LINUX_CMDLINE ?= console=ttyS0 console=tty0

.PHONY: linux-guest run-linux

linux-guest: $(LINUX_KERNEL) $(LINUX_INITRD)

$(LINUX_KERNEL) $(LINUX_INITRD) &: tools/linux-guest.sh
	tools/linux-guest.sh $(BUILD)

run-linux: $(FBVM) $(LINUX_KERNEL) $(LINUX_INITRD)
	$(FBVM) run --kernel $(LINUX_KERNEL) --initrd $(LINUX_INITRD) --mem $(LINUX_MEM) \
		--cmdline "$(LINUX_CMDLINE)" $(RUN_ARGS)
