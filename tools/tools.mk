# Helper programs (included by the top-level Makefile; `tools` is part of `all`).
#   vncprobe: libvncclient test client for tests/integration/vnc_*.sh and bench.

TOOLS_BUILD := $(BUILD)/tools
VNCPROBE    := $(TOOLS_BUILD)/vncprobe
VNCPROBE_PKGS := libvncclient libpng

.PHONY: tools
tools: $(VNCPROBE)

$(VNCPROBE): tools/vncprobe.c tools/tools.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pkg_cflags,$(VNCPROBE_PKGS)) $(LDFLAGS) -o $@ $< \
		$(call pkg_libs,$(VNCPROBE_PKGS))
