#!/bin/bash
# tools/stackcheck.py must fail when the budget is broken, not only pass on
# fbvm: it is run on a small program built here (no guest, no KVM) with one
# thread on a 64 KiB stack, in variants that break one rule each:
#   ok       the thread calls a leaf                      -> passes
#   deep     a chain of five 7 KB frames (over 32 KiB)    -> fails: over 50%
#   big      one 20 KB frame                              -> fails: frame over 16 KiB
#   library  snprintf, whose allowance alone is over half -> fails, snprintf on the path
#   pointer  a call through an unannotated pointer        -> warns; fails with --strict
#   annotated the same call, resolved by an annotation    -> passes, callee on the path
#   stale    an annotation that matches no function      -> warns; fails with --strict
set -eu
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$FBVM" ] || fail "$FBVM not built (stackcheck reads the libraries it links)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/stack_sizes.h" <<'H'
#define KiB(x) ((x) * 1024ull)
#define STACK_TEST_BYTES  ((size_t)KiB(64))
#define STACK_GUARD_BYTES ((size_t)KiB(64))
H
cat >"$tmp/worker.c" <<'C'
#include <stddef.h>
#include <stdio.h>

#include "stack_sizes.h"

struct thread;
int thread_start(struct thread **out, const char *name, size_t stack_bytes,
		 void *(*fn)(void *), void *arg);

#pragma GCC diagnostic ignored "-Wframe-larger-than="
__attribute__((noinline)) int leaf(int x) { return x + 1; }
#define LEVEL(n, next) \
	__attribute__((noinline)) int level##n(int x) \
	{ volatile char b[7000]; b[0] = (char)x; return next(x + 1) + b[0]; }
LEVEL(5, leaf) LEVEL(4, level5) LEVEL(3, level4) LEVEL(2, level3) LEVEL(1, level2)
#ifdef BIG /* checked whether reachable or not: only in its variant */
__attribute__((noinline)) int big(int x) { volatile char b[20000]; b[0] = (char)x; return b[0]; }
#endif
__attribute__((noinline)) int hooked(int x) { volatile char b[100]; b[0] = (char)x; return b[0]; }
static int (*volatile hook)(int);

static void *worker(void *arg)
{
	char buf[32];
	(void)buf;
	(void)arg;
#if defined(DEEP)
	return (void *)(long)level1(1);
#elif defined(BIG)
	return (void *)(long)big(1);
#elif defined(LIBRARY)
	snprintf(buf, sizeof(buf), "%d", leaf(1));
	return buf[0] ? NULL : arg;
#elif defined(POINTER)
	hook = hooked;
	return (void *)(long)hook(1);
#else
	return (void *)(long)leaf(1);
#endif
}

int start(void)
{
	struct thread *t;
	return thread_start(&t, "worker", STACK_TEST_BYTES, worker, NULL);
}
C
printf 'thread-overhead 4K  # test\n' >"$tmp/plain.annotations"
printf 'thread-overhead 4K  # test\ncalls worker.c assign:nothing  # test\n' \
	>"$tmp/stale.annotations"
printf 'thread-overhead 4K  # test\ncalls worker.c assign:hook  # test\n' \
	>"$tmp/resolved.annotations"

# variant DEFINE annotations expected-rc expected-text [stackcheck options]
check() {
	local variant=$1 define=$2 ann=$3 want_rc=$4 want=$5; shift 5
	rm -f "$tmp"/*.ci "$tmp"/*.o
	(cd "$tmp" && gcc -std=gnu11 -O2 -fstack-clash-protection -fcallgraph-info=su \
		${define:+-D$define} -c -o worker.o worker.c)
	set +e
	python3 "$top/tools/stackcheck.py" --binary "$FBVM" --build "$BUILD" \
		--annotations "$tmp/$ann" --stack-sizes "$tmp/stack_sizes.h" \
		--sources "$tmp" "$@" -- "$tmp/worker.ci" >"$tmp/$variant.out" 2>&1
	local rc=$?
	set -e
	if [ "$rc" -ne "$want_rc" ] || ! grep -q -- "$want" "$tmp/$variant.out"; then
		cat "$tmp/$variant.out"
		fail "$variant: exit $rc (want $want_rc), output lacks: $want"
	fi
	echo "ok: $variant: exit $rc, $(grep -m1 -- "$want" "$tmp/$variant.out")"
}

check ok "" plain.annotations 0 "stackcheck: ok"
check deep DEEP plain.annotations 1 "FAIL: thread 'worker': worst case .* exceeds 50% of its 64.0 KiB stack"
grep -q "level5 " "$tmp/deep.out" || fail "deep: the path does not show level5"
check big BIG plain.annotations 1 "FAIL: frame of big (worker.c:.*) is [0-9]* B > 16384 B"
check library LIBRARY plain.annotations 1 "FAIL: thread 'worker'"
grep -q "snprintf .*libc.so.6: library allowance" "$tmp/library.out" ||
	fail "library: snprintf's allowance is not on the path"
check pointer POINTER plain.annotations 0 "warning: unresolved call through a pointer in worker"
check pointer-strict POINTER plain.annotations 1 "FAIL: unresolved call through a pointer in worker" --strict
check annotated POINTER resolved.annotations 0 "stackcheck: ok" --strict
grep -q "hooked .*(via pointer at" "$tmp/annotated.out" ||
	fail "annotated: the resolved callee is not on the path"
check stale POINTER stale.annotations 0 "warning: annotation target assign:nothing matches no function"
check stale-strict POINTER stale.annotations 1 "FAIL: annotation target assign:nothing matches no function" --strict
echo "PASS: stackcheck catches each violation"
