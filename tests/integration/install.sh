#!/bin/bash
# make install / make uninstall as a packager uses them: into a temporary
# DESTDIR, with the default PREFIX (/usr/local) and with PREFIX=/usr as a
# Debian package would. The installed binary answers --version and --help
# and boots guests/hello; `man -l` renders the installed fbvm(1) with every
# option and exit status the README states (the page is made from it) and
# every option --help names; uninstall leaves no file behind.
set -eu
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^VERSION := //p' "$top/Makefile")
[ -n "$version" ] || fail "no VERSION in the Makefile"
command -v man >/dev/null || fail "man missing (make deps installs man-db)"

# install PREFIX DESTDIR: runs make install, checks the two files and modes.
install_into() {
	local prefix=$1 dest=$2
	make -s -C "$top" BUILD="$BUILD" PREFIX="$prefix" DESTDIR="$dest" install >"$tmp/make.out" 2>&1 \
		|| { cat "$tmp/make.out"; fail "make install PREFIX=$prefix failed"; }
	[ -x "$dest$prefix/bin/fbvm" ] || fail "no executable $prefix/bin/fbvm in DESTDIR"
	[ -f "$dest$prefix/share/man/man1/fbvm.1" ] || fail "no $prefix/share/man/man1/fbvm.1 in DESTDIR"
	[ "$(stat -c %a "$dest$prefix/bin/fbvm")" = 755 ] || fail "fbvm is not mode 755"
	[ "$(stat -c %a "$dest$prefix/share/man/man1/fbvm.1")" = 644 ] || fail "fbvm.1 is not mode 644"
	# Exactly these two files: nothing else is installed.
	[ "$(find "$dest" -type f -o -type l | wc -l)" -eq 2 ] || { find "$dest"; fail "unexpected files installed"; }
	echo "ok: make install PREFIX=$prefix put bin/fbvm and share/man/man1/fbvm.1 under DESTDIR"
}

uninstall_from() {
	local prefix=$1 dest=$2 left
	make -s -C "$top" BUILD="$BUILD" PREFIX="$prefix" DESTDIR="$dest" uninstall >"$tmp/make.out" 2>&1 \
		|| { cat "$tmp/make.out"; fail "make uninstall PREFIX=$prefix failed"; }
	left=$(find "$dest" -type f -o -type l)
	[ -z "$left" ] || fail "make uninstall left: $left"
	echo "ok: make uninstall PREFIX=$prefix left no file"
}

# ---- Debian's layout: PREFIX=/usr under a package's staging root
install_into /usr "$tmp/deb"
uninstall_from /usr "$tmp/deb"

# ---- the default PREFIX, used for the checks on what was installed
dest=$tmp/root
install_into /usr/local "$dest"
bin=$dest/usr/local/bin/fbvm
page=$dest/usr/local/share/man/man1/fbvm.1

out=$("$bin" --version)
[ "$out" = "fbvm $version" ] || fail "--version printed '$out', want 'fbvm $version'"
echo "ok: installed fbvm --version: $out"
"$bin" --help >"$tmp/help.txt" || fail "--help exited $?"
grep -q '^usage: fbvm run --kernel FILE' "$tmp/help.txt" || fail "--help has no usage line"
echo "ok: installed fbvm --help prints its usage"

# ---- the man page, rendered as a user would read it
MANWIDTH=200 LC_ALL=C.UTF-8 man --warnings -l "$page" >"$tmp/man.txt" 2>"$tmp/man.err" \
	|| { cat "$tmp/man.err"; fail "man -l failed"; }
[ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err"; fail "man -l warned"; }
for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS"; do
	grep -q "^$s\$" "$tmp/man.txt" || fail "the man page has no $s section"
done
grep -q "^ *fbvm - " "$tmp/man.txt" || fail "NAME is not 'fbvm - ...'"
grep -q "fbvm $version" "$tmp/man.txt" || fail "the man page does not say version $version"

# Every option the README lists and every option --help names is on the page.
opts=$(sed -n 's/^- `\(--[a-z-]*\).*/\1/p' "$top/README.md")
[ "$(echo "$opts" | wc -l)" -ge 10 ] || fail "found only $(echo "$opts" | wc -w) options in the README"
help_opts=$(grep -o -- '--[a-z][a-z-]*' "$tmp/help.txt" | sort -u)
for o in $opts $help_opts; do
	grep -q -- "$o" "$tmp/man.txt" || fail "the man page does not mention $o"
done
# The OPTIONS section has an entry (a line starting with the option) per README option.
sed -n '/^OPTIONS$/,/^EXIT STATUS$/p' "$tmp/man.txt" >"$tmp/options.txt"
for o in $opts; do
	grep -q -- "^ *$o\b" "$tmp/options.txt" || fail "OPTIONS has no entry for $o"
done
echo "ok: man -l shows the README's $(echo "$opts" | wc -l) options and all $(echo "$help_opts" | wc -l) of --help's"

# Every exit status of the README's table, as an entry of EXIT STATUS.
sed -n '/^EXIT STATUS$/,/^SEE ALSO$/p' "$tmp/man.txt" >"$tmp/status.txt"
statuses=$(sed -n '/^### Exit status/,/^#/p' "$top/README.md" | sed 's/\\|/@/g' |
	sed -n 's/^| \([^|]*[0-9n]\) |.*/\1/p' | sed 's/@/|/g')
[ "$(echo "$statuses" | wc -l)" -ge 9 ] || fail "found only $(echo "$statuses" | wc -l) statuses in the README"
while read -r s; do
	grep -qF -- "$s" "$tmp/status.txt" || fail "EXIT STATUS has no entry for '$s'"
done <<<"$statuses"
for s in 0 2 4 6 8 10 12; do
	grep -q "^ *$s  *[a-zA-Z]" "$tmp/status.txt" || fail "EXIT STATUS has no entry for $s"
done
echo "ok: man -l shows the README's $(echo "$statuses" | wc -l) exit statuses"

# ---- the installed binary boots a guest (needs KVM: last)
need_kvm
run_limited 60 "$bin" run --vnc none --kernel "$GUESTS/hello.elf" --cmdline greeting=installed \
	--serial stdio </dev/null >"$tmp/hello.out" 2>"$tmp/hello.err"
cat "$tmp/hello.out" "$tmp/hello.err"
grep -q '^hello from fbvm guest' "$tmp/hello.out" || fail "the installed fbvm did not boot hello"
grep -q 'cmdline: "greeting=installed"' "$tmp/hello.out" || fail "hello did not get its cmdline"
[ "$rc" -eq 1 ] || fail "hello's exit status $rc, want 1 (its pass verdict)"
echo "ok: the installed fbvm booted guests/hello (exit $rc)"

uninstall_from /usr/local "$dest"
