#!/bin/bash
#
# daemon-output-many.sh: with many platforms, `certvigil daemon -o FILE`
# writes FILE at most once a second, not after every audit (each write
# renders every platform's report and waits for the disk on the loop the
# probes share: one per audit was N writes of N platforms per interval).
# Each document counts the write that made it (certvigil_report_writes_total).
#   1. 200 platforms at a 1h interval: their one round of 200 audits costs
#      at most one write a second (plus the first), far fewer than 200
#   2. positive control: FILE did change during the round, and the last
#      write, at most about a second after the last audit, holds all 200
#   3. the same 200 at a 300 ms interval: over 3 more rounds the writes stay
#      within one a second
#   4. SIGTERM writes the audits FILE did not have yet: it ends with every
#      audit the daemon reported done, also when FILE lagged (writes an hour
#      apart, CERTVIGIL_REPORT_GAP) until then; so does SIGINT
# The platforms' names do not resolve (NXDOMAIN from the sandbox's knotd), so
# an audit is a few lookups and the round is cheap.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N=200
cv_start sandbox
cv_notify_start

# config FILE INTERVAL: N platforms under a name knotd does not have.
config() {
	local i
	for ((i = 1; i <= N; i++)); do
		printf '  - name: p%03d\n    global: { baseDomain: gone.example.test }\n    interval: %s\n    jitter: 0s\n' \
			"$i" "$2"
	done | sb_write_config "$1"
}
out=$SB_DIR/out
mkdir -p "$out"
prom=$out/certvigil.prom

# writes FILE: the write that made FILE; platforms FILE: how many platforms
# it has an audit of; audits FILE: their audits, summed.
writes() {
	awk '$1 == "certvigil_report_writes_total" { print $2 }' "$1"
}
platforms() {
	grep -c '^certvigil_audits_total{platform="p[0-9]*"} [1-9]' "$1" || :
}
audits() {
	awk '/^certvigil_audits_total\{platform="p[0-9]*"\} / { n += $2 } END { print n + 0 }' "$1"
}
all_in() {
	[[ -s $prom && $(platforms "$prom") == "$N" ]]
}
# within_rate W0 W1 MS: W1 - W0 writes in MS ms is at most one a second,
# plus one (a write at each end of the span).
within_rate() {
	(($2 - $1 <= $3 / 1000 + 1))
}

# start_daemon CONFIG: a daemon writing prometheus to $prom; its audits
# counted afresh.
start_daemon() {
	: >"$CV_NOTIFY_LOG"
	NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/daemon.err" "$SB_CERTVIGIL" daemon --config "$1" \
		--log-target stderr --state-dir "$SB_DIR/state" --format prometheus -o "$prom"
}

# --- 1. one round of 200 audits ------------------------------------------------------
config "$SB_DIR/slow.yaml" 1h
t0=$(cv_ms)
start_daemon "$SB_DIR/slow.yaml"
assert_ok "round: the first audit is done" cv_wait_audits 1 20000
assert_ok "round: FILE is there after the first audit" test -s "$prom"
cp "$prom" "$SB_DIR/first.prom"
assert_ok "round: all $N audits are done" cv_wait_audits "$N" 60000
t_done=$(cv_ms)
# --- 2. positive control: FILE changed, and it has them all soon after ---------------
assert_ok "round: FILE gets all $N platforms" cv_wait_until 10000 all_in
t_all=$(cv_ms)
cp "$prom" "$SB_DIR/round.prom"
w1=$(writes "$SB_DIR/round.prom")
cv_log "the round: $N audits in $((t_done - t0)) ms; FILE had all $N $((t_all - t_done)) ms after the last, in write $w1"
assert_ok "round: FILE had them all within 2 s of the last audit" test $((t_all - t_done)) -le 2000
assert_ok "round: FILE changed during the round (its first document had $(platforms "$SB_DIR/first.prom") platforms)" \
	test "$(platforms "$SB_DIR/first.prom")" -lt "$N"
assert_ok "round: FILE counts its writes" test -n "$w1"
assert_ok "round: more than one write in the round ($w1)" test "${w1:-0}" -ge 2
assert_ok "round: $N audits, $w1 writes in $((t_all - t0)) ms: at most one a second" \
	within_rate 0 "${w1:-999}" $((t_all - t0 + 1000))
assert_ok "round: $N audits, far fewer writes ($w1)" test "${w1:-999}" -le $((N / 10))
assert_ok "round: no write failed" \
	grep -qE '^certvigil_report_write_failures_total 0$' "$SB_DIR/round.prom"

# --- 3. the same 200 at a short interval --------------------------------------------------
# A reload keeps the schedule but for the interval: the next round is at
# most 300 ms away.
config "$SB_DIR/slow.yaml" 300ms
kill -HUP "$(sb_pid daemon)"
assert_ok "short: the reload is done" cv_wait_until 10000 grep -q "reloaded .*: $N platforms" "$SB_DIR/daemon.err"
n0=$(cv_audits_done)
w0=$(writes "$prom")
t0=$(cv_ms)
assert_ok "short: 3 more rounds ($((3 * N)) audits)" cv_wait_audits $((n0 + 3 * N)) 120000
t1=$(cv_ms)
w2=$(writes "$prom")
cv_log "3 rounds: $((3 * N)) audits in $((t1 - t0)) ms, writes $w0 -> $w2"
assert_ok "short: FILE was written during the rounds" test "$w2" -gt "$w0"
assert_ok "short: $((3 * N)) audits, $((w2 - w0)) writes in $((t1 - t0)) ms: at most one a second" \
	within_rate "$w0" "$w2" $((t1 - t0))

# --- 4. SIGTERM writes what FILE did not have yet --------------------------------------------
# The daemon of 1-3 stops first (its FILE must hold every audit too, but a
# second's gap can have written them already). A daemon whose writes are an
# hour apart (CERTVIGIL_REPORT_GAP, for tests) then writes its first audit
# at once and keeps the rest of the round for the write SIGTERM makes.
# stop_daemon WHAT [SIGNAL]: SIGTERM (or SIGNAL), then wait for the daemon's
# exit and for the listener to have logged its last datagram (STOPPING=1),
# so the audit count read afterwards is final; FILE is final once the daemon
# is gone.
stop_daemon() {
	local rc=0 pid sig=${2:-TERM}
	pid=$(sb_pid daemon)
	kill -"$sig" "$pid"
	wait "$pid" || rc=$?
	unset 'SB_PIDS[daemon]'
	assert_eq "$1: SIG$sig ends the daemon with status 0" 0 "$rc"
	assert_ok "$1: the notify log has STOPPING=1" cv_wait_until 2000 grep -q 'STOPPING=1' "$CV_NOTIFY_LOG"
}
stop_daemon "stop after the short rounds"
assert_eq "stop after the short rounds: FILE has every audit reported done" "$(cv_audits_done)" "$(audits "$prom")"
# SIGINT takes SIGTERM's path.
config "$SB_DIR/slow.yaml" 1h
for sig in TERM INT; do
	rm -f "$prom"
	CERTVIGIL_REPORT_GAP=1h start_daemon "$SB_DIR/slow.yaml"
	assert_ok "stop by SIG$sig: all $N audits are done" cv_wait_audits "$N" 60000
	assert_ok "stop by SIG$sig: FILE has the first audit" test -s "$prom"
	in_file=$(audits "$prom") done_n=$(cv_audits_done)
	assert_ok "stop by SIG$sig: FILE lags before it ($in_file audits in FILE, $done_n done)" \
		test "$in_file" -lt "$done_n"
	stop_daemon "stop by SIG$sig" "$sig"
	in_file=$(audits "$prom") done_n=$(cv_audits_done)
	assert_eq "stop by SIG$sig: after it FILE has every audit reported done ($in_file in FILE, $done_n done)" \
		"$done_n" "$in_file"
	assert_ok "stop by SIG$sig: no temporary file is left beside FILE" \
		test "$(find "$out" -mindepth 1 | wc -l)" = 1
done

cv_finish
