# checks.sh: the small assertion kit shared by the journal, daemon and output
# tests (sourced, after lib.sh). pass/fail count; expect runs a command and
# passes when it succeeds; each test ends by exiting 1 when failures > 0.
# shellcheck shell=bash

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

# The systemd end of the notify protocol: a listener of ours on
# $SB_DIR/notify.sock that logs every datagram to $log (sets notify, log).
notify_start() {
	notify=$SB_DIR/notify.sock
	log=$SB_DIR/notify.log
	sb__spawn notify "$log" "$NOTIFY_LISTEN" "$notify"
	sb__wait_ready notify 2000 "$log" test -S "$notify"
}
