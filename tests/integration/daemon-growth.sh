#!/bin/bash
#
# daemon-growth.sh: the daemon audits a sandbox platform (8 endpoints, 4
# critical findings) at a 20 ms interval for 1,000 cycles (200 under the
# sanitizers); its RSS after the last cycle is within 1 MiB of cycle 20 (50
# under the sanitizers) and its open descriptors are as many then, give or
# take what one audit has in flight, and it leaks nothing:
#  - in a sanitizer build (configure --enable-sanitizers) the 200 cycles run
#    under LeakSanitizer, which fails the exit status on any leak at exit;
#  - in a plain build, the 1,000 cycles run natively for the RSS check, then
#    VALGRIND_CYCLES (default 15) cycles run under valgrind --leak-check=full
#    (valgrind makes a cycle ~0.7 s here; 200 would take minutes).
# The sub-second interval is the ordinary `interval` key: durations accept ms.

set -Eeuo pipefail
# set -e ends the test on an unexpected failure: say where.
trap 'echo "ERROR: unexpected failure at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR
# shellcheck source-path=SCRIPTDIR source=../sandbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/lib.sh"

NOTIFY_LISTEN=$SB_BUILDDIR/tests/tools/notify-listen
CYCLES=${CYCLES:-}
VALGRIND_CYCLES=${VALGRIND_CYCLES:-15}
sb_require_tools || exit 77
[[ -x $NOTIFY_LISTEN ]] || { echo "SKIP: $NOTIFY_LISTEN not built"; exit 77; }

failures=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	failures=$((failures + 1))
}

sanitized=0
# (Not `ldd | grep -q`: grep's early exit fails the pipeline under pipefail.)
if [[ $(ldd "$SB_CERTVIGIL" 2>/dev/null) == *libasan* ]]; then
	sanitized=1
	# Freed memory waits in ASan's quarantine (256 MB by default), which
	# would read as growth; leaks are what LSan is here for.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:detect_leaks=1
fi
# A sanitized cycle costs several times a plain one; its allocator also
# takes longer to settle, so its baseline is taken later.
CYCLES=${CYCLES:-$((sanitized ? 200 : 1000))}
WARM=${WARM:-$((sanitized ? 50 : 20))}
if ((!sanitized)) && ! command -v valgrind >/dev/null; then
	echo "SKIP: a plain build needs valgrind for the leak check (apt-get install valgrind)"
	exit 77
fi

sb_up
cfg=$SB_DIR/certvigil.yaml
sb_write_config "$cfg" <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
    interval: 20ms
    jitter: 0s
EOF
notify=$SB_DIR/notify.sock
log=$SB_DIR/notify.log
sb__spawn notify "$log" "$NOTIFY_LISTEN" "$notify"
sb__wait_ready notify 2000 "$log" test -S "$notify"

wait_audits() {
	local n=$1 ms=$2 deadline
	deadline=$(($(sb__ms) + ms))
	until grep -qE "STATUS=.* $n audits? done" "$log"; do
		(($(sb__ms) < deadline)) || return 1
		sb__is_running "$(sb_pid daemon)" || return 1
		sb__sleep 0.005
	done
}
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
fds() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# run_cycles N MS [WRAPPER...]: the daemon for N audits (MS at most), then
# SIGTERM; sets rss20, rssN and rc.
run_cycles() {
	local n=$1 ms=$2 pid
	shift 2
	: >"$log"
	NOTIFY_SOCKET=$notify sb__spawn daemon "$SB_DIR/daemon.err" "$@" \
		"$SB_CERTVIGIL" daemon --config "$cfg" --state-dir "$SB_DIR/state"
	pid=$(sb_pid daemon)
	rss20= rssN= fd20= fdN=
	if wait_audits "$WARM" "$ms"; then rss20=$(rss_kb "$pid") fd20=$(fds "$pid"); fi
	if wait_audits "$n" "$ms"; then rssN=$(rss_kb "$pid") fdN=$(fds "$pid"); fi
	kill -TERM "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" || rc=$?
	unset 'SB_PIDS[daemon]'
}

t0=$(sb__ms)
run_cycles "$CYCLES" 120000
t=$(($(sb__ms) - t0))
if [[ -n $rss20 && -n $rssN ]]; then
	pass "$CYCLES audit cycles in $t ms"
	if ((rssN - rss20 <= 1024)); then
		pass "RSS after cycle $CYCLES (${rssN} kB) within 1 MiB of cycle $WARM (${rss20} kB)"
	else
		fail "RSS after cycle $CYCLES (${rssN} kB) grew by $((rssN - rss20)) kB since cycle $WARM (${rss20} kB)"
	fi
	# The DNS channels stay open for reuse, and a sample may fall in the
	# middle of an audit (8 handshakes, DNS, fetches in flight): the count
	# differs by what is in flight at that moment, but does not grow with
	# the cycles (a descriptor leaked per cycle would be hundreds).
	if ((fdN <= fd20 + 12)); then
		pass "open descriptors after cycle $CYCLES ($fdN) as at cycle $WARM ($fd20)"
	else
		fail "open descriptors grew from $fd20 at cycle $WARM to $fdN after cycle $CYCLES"
	fi
else
	fail "the daemon did not reach $CYCLES audits ($WARM at ${rss20:-never}); last: $(grep STATUS "$log" | tail -1)"
fi
if ((sanitized)); then
	if [[ $rc == 0 ]] && ! grep -q 'LeakSanitizer' "$SB_DIR/daemon.err"; then
		pass "LeakSanitizer: no leak after $CYCLES cycles, exit 0"
	else
		fail "exit status $rc under ASan/LSan"
		grep -A30 -m1 'ERROR: ' "$SB_DIR/daemon.err" || tail -20 "$SB_DIR/daemon.err"
	fi
else
	[[ $rc == 0 ]] && pass "SIGTERM: exit 0" || fail "exit status $rc"
	: >"$SB_DIR/daemon.err"
	run_cycles "$VALGRIND_CYCLES" 120000 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	if [[ $rc == 0 && -n $rssN ]]; then
		pass "valgrind: no leak and no memory error in $VALGRIND_CYCLES cycles"
	else
		fail "valgrind: exit status $rc after ${VALGRIND_CYCLES} cycles (reached: ${rssN:+yes})"
		grep '^==' "$SB_DIR/daemon.err" | head -60
	fi
fi

# (The EXIT trap may end non-zero on purpose: not an unexpected failure.)
trap - ERR
sb_cleanup
if ((failures)); then
	echo "$failures check(s) failed"
	exit 1
fi
