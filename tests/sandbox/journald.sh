# shellcheck shell=bash
#
# tests/sandbox/journald.sh: a private systemd-journald for tests, in a mount
# namespace of the test's own (see /work/shared/TESTING-NOTES.md: the
# socket path is fixed in libsystemd, so the only way to give certvigil a
# journal of the test's own is to mount fresh /run/systemd, /run/log and
# /var/log/journal where nobody else sees them).
#
#   jd_enter "$@"   first thing in the test: re-runs the script inside
#                   `unshare -m` (or `unshare -Urm` when not root); exits 77
#                   when neither works or journald is not installed
#   jd_nosocket     mounts the empty directories: no journal socket yet
#   jd_start        starts journald (after jd_nosocket) and waits for its socket
#   jd_entries [MATCH...]  certvigil's entries (SYSLOG_IDENTIFIER=certvigil)
#                   as one JSON object per line, with journalctl matches
#   jd_wait_count N [MATCH...]  waits (5 s at most) until N entries match
#   jd_stop         stops journald (sb_stop does too: it is in SB_PIDS)
#
# Source tests/sandbox/lib.sh first: journald runs through its sb__spawn,
# so sb_stop and the sandbox's traps stop it as they stop the servers.

JD_BIN=${JD_BIN:-/lib/systemd/systemd-journald}
JD_DIR=/run/log/journal

jd_enter() {
	if [[ ${CV_JD_INSIDE:-} == 1 ]]; then
		return 0
	fi
	if [[ ! -x $JD_BIN ]] || ! command -v journalctl >/dev/null || ! command -v jq >/dev/null; then
		echo "SKIP: needs $JD_BIN, journalctl and jq" >&2
		exit 77
	fi
	local flags=(-m --propagation private)
	[[ $(id -u) == 0 ]] || flags=(-Urm --propagation private)
	if ! unshare "${flags[@]}" true 2>/dev/null; then
		echo "SKIP: cannot make a mount namespace (unshare ${flags[*]})" >&2
		exit 77
	fi
	CV_JD_INSIDE=1 exec unshare "${flags[@]}" "$BASH" "$0" "$@"
}

jd_nosocket() {
	local d
	for d in /run/systemd /run/log /var/log/journal; do
		mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d" || return 1
	done
}

jd_start() {
	local i
	sb_init || return 1
	sb__spawn journald "$SB_DIR/journald.log" "$JD_BIN" || return 1
	for ((i = 0; i < 500; i++)); do
		[[ -S /run/systemd/journal/socket ]] && return 0
		sb__is_running "${SB_PIDS[journald]}" || break
		sb__sleep 0.01
	done
	sb__log "journald did not create its socket"
	sb__log_tail "$SB_DIR/journald.log"
	return 1
}

jd_stop() {
	sb_stop journald
}

jd_entries() {
	journalctl -D "$JD_DIR" -o json --no-pager SYSLOG_IDENTIFIER=certvigil "$@" 2>/dev/null || true
}

jd_wait_count() {
	local want=$1 n deadline
	shift
	deadline=$(($(sb__ms) + 5000))
	while :; do
		n=$(jd_entries "$@" | wc -l)
		((n >= want)) && return 0
		if (($(sb__ms) >= deadline)); then
			sb__log "expected $want journal entries matching '$*', have $n"
			return 1
		fi
		sb__sleep 0.02
	done
}
