#!/bin/bash
#
# daemon-output-stop.sh: SIGTERM while a failed write of `certvigil daemon
# -o FILE` waits for its next try. Writes an hour apart
# (CERTVIGIL_REPORT_GAP=1h, for tests) make the first failure's next try an
# hour away, so a daemon that waited for it would not stop within the
# test's bound. FILE lives on a small tmpfs of this test's own mount
# namespace (also as root, where permissions stop nothing): full, then with
# room again, or read-only.
#   1. full disk: the first audit's write fails ("trying again in 60m");
#      SIGTERM makes one last try, which fails and says so ("; stopping
#      without it"), at once; the exit status is 0; FILE is still the
#      previous report; no temporary file is left
#   2. room again before SIGTERM: the last try succeeds; FILE holds the
#      audit and counts the failed write (certvigil_report_write_failures_total 1)
#   3. room again but the directory read-only before SIGTERM: the last try
#      fails with its own reason, the previous FILE stays

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# A mount namespace of our own (the tmpfs is nobody else's), before the
# sandbox starts: its servers and the daemons run inside it too.
if [[ ${CV_STOP_INSIDE:-} != 1 ]]; then
	flags=(-m --propagation private)
	[[ $(id -u) == 0 ]] || flags=(-Urm --propagation private)
	if ! unshare "${flags[@]}" true 2>/dev/null; then
		cv_log "SKIP: cannot make a mount namespace (unshare ${flags[*]})"
		exit 77
	fi
	CV_STOP_INSIDE=1 exec unshare "${flags[@]}" "$BASH" "$0" "$@"
fi

cv_start sandbox
cv_notify_start

cfg=$SB_DIR/certvigil.yaml
sb_write_config "$cfg" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    interval: 1h
    jitter: 0s
EOF
out=$SB_DIR/out
prom=$out/certvigil.prom
mkdir -p "$out"
# The tmpfs goes before the sandbox's directory does (on a failure or a
# signal too): a mount point cannot be removed.
unmount() { umount "$out" 2>/dev/null || :; }
trap 'rc=$?; unmount; sb_cleanup || :; exit "$rc"' EXIT
trap 'unmount; sb__on_signal INT 130' INT
trap 'unmount; sb__on_signal TERM 143' TERM
trap 'unmount; sb__on_signal HUP 129' HUP

# fresh_fs: an empty 256 KiB tmpfs at $out holding FILE as the previous
# run left it.
fresh_fs() {
	unmount
	mount -t tmpfs -o size=256k,mode=0755 tmpfs "$out"
	printf '# the previous report\n' >"$prom"
}
# fill_fs: no room left on it (dd stops at ENOSPC, which it must reach).
fill_fs() {
	! dd if=/dev/zero of="$out/filler" bs=4096 2>"$SB_DIR/dd.err" &&
		grep -q 'No space left on device' "$SB_DIR/dd.err" &&
		! printf x 2>/dev/null >"$out/probe"
}
# leftovers: what the directory holds besides FILE and the filler.
leftovers() {
	find "$out" -mindepth 1 ! -name certvigil.prom ! -name filler ! -name probe -printf '%f\n' | sort
}

# start_daemon NAME: a daemon writing FILE an hour apart at most; stderr in
# $SB_DIR/NAME.err.
start_daemon() {
	: >"$CV_NOTIFY_LOG"
	CERTVIGIL_REPORT_GAP=1h NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/$1.err" "$SB_CERTVIGIL" \
		daemon --config "$cfg" --log-target stderr --state-dir "$SB_DIR/state-$1" --format prometheus -o "$prom"
}
# stop_daemon NAME: SIGTERM; the daemon must be gone well within the hour
# its next try is away; its exit status must be 0.
stop_daemon() {
	local rc=0 pid t0
	pid=$(sb_pid daemon)
	t0=$(cv_ms)
	kill -TERM "$pid"
	assert_ok "$1: the daemon stops at once, not after its next try's hour" \
		cv_wait_until 10000 eval '! sb__is_running '"$pid"
	wait "$pid" || rc=$?
	unset 'SB_PIDS[daemon]'
	cv_log "$1: stopped $(($(cv_ms) - t0)) ms after SIGTERM"
	assert_eq "$1: SIGTERM ends the daemon with status 0" 0 "$rc"
}
# failed_write NAME: the first audit is done and its write failed, the next
# try an hour away.
failed_write() {
	assert_ok "$1: the first audit is done" cv_wait_audits 1
	assert_ok "$1: its write failed; the next try is an hour away" \
		cv_wait_until 10000 grep -q "^certvigil: cannot write the report to $prom: .*; trying again in 60m$" \
		"$SB_DIR/$1.err"
}
# tries NAME: the failed tries the daemon logged.
tries() {
	grep -c "^certvigil: cannot write the report to $prom: " "$SB_DIR/$1.err" || :
}

# --- 1. full disk: the last try fails -----------------------------------------------
fresh_fs
assert_ok "full: the disk is full" fill_fs
start_daemon full
failed_write full
stop_daemon full
assert_ok "full: SIGTERM's try failed for want of room, and says it stops without it" \
	grep -q "^certvigil: cannot write the report to $prom: No space left on device; stopping without it$" \
	"$SB_DIR/full.err"
assert_eq "full: two tries in all (the audit's, SIGTERM's)" 2 "$(tries full)"
assert_eq "full: FILE is still the previous report" '# the previous report' "$(cat "$prom")"
assert_eq "full: no temporary file is left" "" "$(leftovers)"

# --- 2. room again before SIGTERM: the last try succeeds ----------------------------
fresh_fs
assert_ok "room: the disk is full" fill_fs
start_daemon room
failed_write room
rm -f "$out/filler"
stop_daemon room
assert_eq "room: only the audit's try failed" 1 "$(tries room)"
assert_ok "room: FILE holds the audit" grep -q '^certvigil_last_audit_timestamp_seconds{platform="ok"} ' "$prom"
assert_ok "room: FILE counts the failed write" grep -qx 'certvigil_report_write_failures_total 1' "$prom"
assert_ok "room: FILE is a whole textfile" promtool check metrics <"$prom"
assert_eq "room: no temporary file is left" "" "$(leftovers)"

# --- 3. room again, the directory read-only: the last try fails ---------------------
fresh_fs
assert_ok "ro: the disk is full" fill_fs
start_daemon ro
failed_write ro
rm -f "$out/filler"
mount -o remount,ro "$out"
assert_ok "ro: nothing can be created in FILE's directory" eval '! : 2>/dev/null >"$out/probe"'
stop_daemon ro
assert_ok "ro: SIGTERM's try failed, says why, and that it stops without it" \
	grep -q "^certvigil: cannot write the report to $prom: Read-only file system; stopping without it$" \
	"$SB_DIR/ro.err"
assert_eq "ro: two tries in all" 2 "$(tries ro)"
assert_eq "ro: FILE is still the previous report" '# the previous report' "$(cat "$prom")"
assert_eq "ro: no temporary file is left" "" "$(leftovers)"

unmount
cv_finish
