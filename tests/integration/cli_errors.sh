#!/bin/bash
# Bad command lines and bad images: one clear line on stderr, exit status 2,
# and fbvm starts nothing.
set -eu
. "$(dirname "$0")/common.bash"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

printf 'just some text\n' >"$tmp/text"
head -c 40 "$GUESTS/hello.elf" >"$tmp/truncated.elf"
: >"$tmp/empty"

expect_usage_error() {
	local want=$1; shift
	set +e
	"$FBVM" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "fbvm $*: exit status $rc, want 2 (stderr: $(cat "$tmp/err"))"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "fbvm $*: want one line on stderr, got: $(cat "$tmp/err")"
	grep -qF -- "$want" "$tmp/err" || fail "fbvm $*: stderr '$(cat "$tmp/err")' lacks '$want'"
	[ ! -s "$tmp/out" ] || fail "fbvm $*: wrote to stdout: $(cat "$tmp/out")"
	echo "ok: $(cut -c1-160 "$tmp/err")"
}

expect_usage_error "no command given" 
expect_usage_error "unknown command 'boot'" boot
expect_usage_error "--kernel FILE is required" run
expect_usage_error "No such file or directory" run --kernel "$tmp/missing.elf"
expect_usage_error "not a regular file" run --kernel "$tmp"
expect_usage_error "size 0 bytes" run --kernel "$tmp/empty"
expect_usage_error "unknown kernel image format" run --kernel "$tmp/text"
expect_usage_error "truncated" run --kernel "$tmp/truncated.elf"
expect_usage_error "--mem 1K: must be between 16M and 64G" run --kernel "$GUESTS/hello.elf" --mem 1K
expect_usage_error "--mem 65G: must be between 16M and 64G" run --kernel "$GUESTS/hello.elf" --mem 65G
expect_usage_error "--mem lots" run --kernel "$GUESTS/hello.elf" --mem lots
expect_usage_error "--serial tcp:4444" run --kernel "$GUESTS/hello.elf" --serial tcp:4444
expect_usage_error "--serial file:$tmp/no/such/dir" run --kernel "$GUESTS/hello.elf" --serial "file:$tmp/no/such/dir"
expect_usage_error "--initrd $tmp/missing" run --kernel "$GUESTS/hello.elf" --initrd "$tmp/missing"
expect_usage_error "--vnc 5900: must be ADDR:PORT" run --kernel "$GUESTS/hello.elf" --vnc 5900
expect_usage_error "unknown option '--bogus'" run --kernel "$GUESTS/hello.elf" --bogus
long=$(head -c 5000 /dev/zero | tr '\0' x)
expect_usage_error "command line" run --kernel "$GUESTS/hello.elf" --cmdline "$long"

"$FBVM" --version | grep -q '^fbvm ' || fail "--version"
"$FBVM" --help | grep -q 'usage: fbvm run --kernel FILE' || fail "--help"
echo "all CLI error cases behave"
