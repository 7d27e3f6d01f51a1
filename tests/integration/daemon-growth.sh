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

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CYCLES=${CYCLES:-}
VALGRIND_CYCLES=${VALGRIND_CYCLES:-15}
cv_require

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

cv_up
cfg=$SB_DIR/certvigil.yaml
sb_write_config "$cfg" <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
    interval: 20ms
    jitter: 0s
EOF
cv_notify_start
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
	: >"$CV_NOTIFY_LOG"
	NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/daemon.err" "$@" \
		"$SB_CERTVIGIL" daemon --config "$cfg" --state-dir "$SB_DIR/state"
	pid=$(sb_pid daemon)
	rss20='' rssN='' fd20='' fdN=''
	if cv_wait_audits "$WARM" "$ms"; then rss20=$(rss_kb "$pid") fd20=$(fds "$pid"); fi
	if cv_wait_audits "$n" "$ms"; then rssN=$(rss_kb "$pid") fdN=$(fds "$pid"); fi
	# (It may be gone already: rc says how it ended.)
	kill -TERM "$pid" 2>/dev/null || :
	rc=0
	wait "$pid" || rc=$?
	unset 'SB_PIDS[daemon]'
}

t0=$(sb__ms)
# Generous: under a loaded machine (CI) 1,000 cycles take minutes, not 20 s.
run_cycles "$CYCLES" 300000
t=$(($(sb__ms) - t0))
if [[ -n $rss20 && -n $rssN ]]; then
	cv_pass "$CYCLES audit cycles in $t ms"
	if ((rssN - rss20 <= 1024)); then
		cv_pass "RSS after cycle $CYCLES (${rssN} kB) within 1 MiB of cycle $WARM (${rss20} kB)"
	else
		cv_fail "RSS after cycle $CYCLES (${rssN} kB) grew by $((rssN - rss20)) kB since cycle $WARM (${rss20} kB)"
	fi
	# The DNS channels stay open for reuse, and a sample may fall in the
	# middle of an audit (8 handshakes, DNS, fetches in flight): the count
	# differs by what is in flight at that moment, but does not grow with
	# the cycles (a descriptor leaked per cycle would be hundreds).
	if ((fdN <= fd20 + 12)); then
		cv_pass "open descriptors after cycle $CYCLES ($fdN) as at cycle $WARM ($fd20)"
	else
		cv_fail "open descriptors grew from $fd20 at cycle $WARM to $fdN after cycle $CYCLES"
	fi
else
	cv_fail "the daemon did not reach $CYCLES audits ($WARM at ${rss20:-never}); last: $(grep STATUS "$CV_NOTIFY_LOG" | tail -1)"
fi
if ((sanitized)); then
	if [[ $rc == 0 ]] && ! grep -q 'LeakSanitizer' "$SB_DIR/daemon.err"; then
		cv_pass "LeakSanitizer: no leak after $CYCLES cycles, exit 0"
	else
		cv_fail "exit status $rc under ASan/LSan"
		grep -A30 -m1 'ERROR: ' "$SB_DIR/daemon.err" || tail -20 "$SB_DIR/daemon.err"
	fi
else
	[[ $rc == 0 ]] && cv_pass "SIGTERM: exit 0" || cv_fail "exit status $rc"
	: >"$SB_DIR/daemon.err"
	run_cycles "$VALGRIND_CYCLES" 120000 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	if [[ $rc == 0 && -n $rssN ]]; then
		cv_pass "valgrind: no leak and no memory error in $VALGRIND_CYCLES cycles"
	else
		cv_fail "valgrind: exit status $rc after ${VALGRIND_CYCLES} cycles (reached: ${rssN:+yes})"
		grep '^==' "$SB_DIR/daemon.err" | awk 'NR <= 60'
	fi
fi

cv_finish
