# Shared helpers for integration tests (sourced). $1 of the test is BUILD.
BUILD=$(cd "${1:-build}" && pwd)
FBVM="$BUILD/fbvm"
GUESTS="$BUILD/guests"
# This folder, for the shared Python helpers (rfb.py, pty_helpers.py) that
# the tests' Python parts import through sys.path.
TESTS_INTEGRATION=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TESTS_INTEGRATION

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

need_kvm() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm is not available on this host"
}

# Runs a command with a time limit; sets $rc to its exit status.
run_limited() {
	local secs=$1; shift
	set +e
	timeout --kill-after=5 "$secs" "$@"
	rc=$?
	set -e
}
