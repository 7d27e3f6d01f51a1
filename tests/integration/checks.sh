# checks.sh: the start and the small assertion kit shared by the journal,
# daemon and output tests (sourced first): strict mode with a line number on
# an unexpected failure, the sandbox library, pass/fail counting; expect
# runs a command and passes when it succeeds; each test ends by exiting 1
# when failures > 0.
# shellcheck shell=bash

set -Eeuo pipefail
# set -e ends the test on an unexpected failure: say where.
trap 'echo "ERROR: unexpected failure at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR
# shellcheck source-path=SCRIPTDIR source=../sandbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/lib.sh"

failures=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	failures=$((failures + 1))
}
expect() {
	local what=$1
	shift
	if "$@" >/dev/null; then pass "$what"; else fail "$what"; fi
}

# notify_require: skips the test (77) unless the notify listener is built.
notify_require() {
	NOTIFY_LISTEN=$SB_BUILDDIR/tests/tools/notify-listen
	[[ -x $NOTIFY_LISTEN ]] || { echo "SKIP: $NOTIFY_LISTEN not built"; exit 77; }
}

# The systemd end of the notify protocol: a listener of ours on
# $SB_DIR/notify.sock that logs every datagram to $log (sets notify, log).
notify_start() {
	notify=$SB_DIR/notify.sock
	log=$SB_DIR/notify.log
	sb__spawn notify "$log" "$NOTIFY_LISTEN" "$notify"
	sb__wait_ready notify 2000 "$log" test -S "$notify"
}
