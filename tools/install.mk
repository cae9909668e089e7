# make install / make uninstall, included by the top-level Makefile once
# FBVM, BUILD and VERSION are set. GNU and Debian conventions: PREFIX
# (default /usr/local) is where fbvm will run from, DESTDIR a staging root
# prepended to every path (a package build's debian/fbvm), BINDIR and MANDIR
# follow PREFIX unless given. Nothing is stripped or compressed: a Debian
# package's dh_strip and dh_compress do that.
#   make install PREFIX=/usr DESTDIR=$PWD/debian/fbvm
#   make uninstall PREFIX=/usr DESTDIR=$PWD/debian/fbvm

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
INSTALL ?= install

# fbvm(1) is made from README.md's usage, options and exit status: one source.
FBVM_MAN := $(BUILD)/fbvm.1

.PHONY: install uninstall man

man: $(FBVM_MAN)

$(FBVM_MAN): README.md tools/gen_man.py
	@mkdir -p $(dir $@)
	python3 tools/gen_man.py --version $(VERSION) README.md >$@.tmp
	mv $@.tmp $@

install: $(FBVM) $(FBVM_MAN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 0755 $(FBVM) $(DESTDIR)$(BINDIR)/fbvm
	$(INSTALL) -m 0644 $(FBVM_MAN) $(DESTDIR)$(MANDIR)/man1/fbvm.1

# Removes what install put there; the directories are shared with other
# programs and stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fbvm $(DESTDIR)$(MANDIR)/man1/fbvm.1
