#!/bin/bash
#
# daemon-log-target.sh: where the daemon's alerts and audit summaries go when
# nobody reads a journal (a container, a pod). The machine running the test
# has no journald socket outside a private namespace, so:
#   1. --log-target stderr (and auto, the default, without a socket): after
#      the first audit of a platform whose old certificate (served for 4
#      names) is one critical problem, one stderr line per new alert
#      ("certvigil: critical: mixed: tls.expiry.critical: ...") and one for
#      the audit's summary
#   2. --log-target journal without a socket: the one line saying entries
#      are lost, and no alert lines (as before this option)
#   3. a bad --log-target, and --log-target on audit: exit 3

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ -S /run/systemd/journal/socket ]]; then
	echo "SKIP: this machine has a journal socket; auto would use it"
	exit 77
fi
cv_start sandbox
cv_notify_start

cfg=$SB_DIR/certvigil.yaml
sb_write_config "$cfg" <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
    interval: 1h
    jitter: 0s
EOF

# run_daemon NAME [ARG...]: the daemon until its first audit is done, then
# SIGTERM; its stderr in $SB_DIR/NAME.err.
run_daemon() {
	local name=$1 pid rc=0
	shift
	: >"$log"
	rm -rf "$SB_DIR/state-$name"
	NOTIFY_SOCKET=$notify sb__spawn daemon "$SB_DIR/$name.err" \
		"$SB_CERTVIGIL" daemon --config "$cfg" --state-dir "$SB_DIR/state-$name" "$@"
	pid=$(sb_pid daemon)
	assert_ok "$name: the first audit is done" cv_wait_audits 1 5000
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	unset 'SB_PIDS[daemon]'
	assert_eq "$name: SIGTERM ends the daemon with status 0" 0 "$rc"
}

for mode in stderr auto; do
	if [[ $mode == auto ]]; then run_daemon auto; else run_daemon stderr --log-target stderr; fi
	err=$SB_DIR/$mode.err
	assert_ok "$mode: 1 new tls.expiry.critical alert for the 4 names, one line" \
		test "$(grep -cE '^certvigil: critical: mixed: tls\.expiry\.critical: the certificate served by 127\.0\.0\.2 for api\.mixed\.example\.test, console\.mixed\.example\.test and 2 more expires' "$err")" = 1
	assert_ok "$mode: one summary line for the audit" \
		test "$(grep -cE '^certvigil: info: mixed: audit critical: 1 critical, [0-9]+ warning, [0-9]+ info open' "$err")" = 1
	assert_ok "$mode: no line about a missing journal" test "$(grep -c 'journal entries are not written' "$err" || true)" = 0
done

run_daemon journal --log-target journal
err=$SB_DIR/journal.err
assert_ok "journal (no socket): says once that entries are lost" \
	test "$(grep -c 'no journal socket at /run/systemd/journal/socket' "$err")" = 1
assert_ok "journal (no socket): no alert line on stderr" test "$(grep -c 'tls\.expiry\.critical' "$err" || true)" = 0

rc=0
"$SB_CERTVIGIL" daemon --config "$cfg" --log-target syslog 2>"$SB_DIR/bad.err" || rc=$?
assert_ok "--log-target syslog: exit 3" test "$rc" = 3
assert_ok "--log-target syslog: names the targets" grep -q 'expected auto, journal or stderr' "$SB_DIR/bad.err"
rc=0
"$SB_CERTVIGIL" audit --config "$cfg" --log-target stderr 2>"$SB_DIR/bad2.err" || rc=$?
assert_ok "audit --log-target: exit 3, only for the daemon" test "$rc" = 3

cv_finish
