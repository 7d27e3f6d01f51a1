#!/bin/bash
#
# daemon-alerts.sh: the alert discipline of `certvigil daemon` and of the
# oneshot audit with --state-dir, read back from a private journald.  A
# finding is alerted when it appears, not again while it persists (also
# across restarts and kill -9), is resolved (finding.resolved) when the
# sandbox is fixed, is reminded every `remind`; a corrupt or truncated
# state.json is logged and rebuilt.  An alert is about one problem (issue
# 12): the old certificate on 127.0.0.2 is one alert whatever the names it
# is served for, and stays the same problem while it is served; a state.json
# of format 1 (one finding per endpoint) is taken over without new alerts.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start journald
jd_start
cv_notify_start
state=$SB_DIR/state
RESOLVED_ID=128dd13f9f794368be0e63ac15863394

cfg=$SB_DIR/certvigil.yaml
write_cfg() {
	sb_write_config "$cfg" <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
    interval: 100ms
    jitter: 0s
    remind: ${1:-24h}
EOF
}
write_cfg

# daemon_start: runs the daemon; its pid is in $dpid.
daemon_start() {
	: >"$log"
	NOTIFY_SOCKET=$notify sb__spawn daemon "$SB_DIR/daemon.err" \
		"$SB_CERTVIGIL" daemon --config "$cfg" --state-dir "$state"
	dpid=$(sb_pid daemon)
}
daemon_stop() {
	local sig=${1:-TERM} rc=0
	kill -"$sig" "$dpid"
	# (bash would report "Killed" for kill -9)
	{ wait "$dpid" || rc=$?; } 2>/dev/null
	unset 'SB_PIDS[daemon]'
	return "$rc"
}
# run_daemon WHAT N: start, N audits, SIGTERM.  Alerts of that run: alerts_of.
# The counts asserted afterwards mean something only if the audits ran, so
# both waits (the STATUS= count, then the summaries in the journal) are
# assertions of their own.
run_daemon() {
	local rc=0
	: >"$SB_DIR/daemon.err"
	daemon_start
	assert_ok "$1: the daemon reports $2 audits done" cv_wait_audits "$2"
	daemon_stop TERM || rc=$?
	assert_eq "$1: SIGTERM ends the daemon with status 0" 0 "$rc"
	assert_ok "$1: $2 audit summaries in the journal" \
		jd_wait_count "$2" _PID="$dpid" MESSAGE_ID=33c69ec63b3645e7ab40f64eaf7764f7
}
# alerts_of PID [JQ FILTER]: the alert entries (not summaries) of one run.
alerts_of() {
	jd_entries _PID="$1" | jq -c "select(.CERTVIGIL_ALERT != null) ${2:+| select($2)}"
}
count() {
	alerts_of "$@" | wc -l
}
# The exact totals below are about the findings this test provokes; checks
# added later may find more on the sandbox platform (once: the "no alerts"
# checks stay unscoped, since a persisting finding of any check is quiet).
MINE='(.CERTVIGIL_FINDING | test("^(tls\\.expiry|tls\\.connect)\\.")) or (.CERTVIGIL_RESOLVED // "" | test("^(tls\\.expiry|tls\\.connect)\\."))'
count_mine() {
	count "$1" "$MINE"
}

# --- 1. appear: one critical (127.0.0.2 serves the old certificate for 4 names) -----
run_daemon "run 1" 4
p1=$dpid
assert_ok "run 1: 1 alert" test "$(count_mine "$p1")" = 1
assert_ok "run 1: it is a new tls.expiry.critical on 127.0.0.2 naming the 4 names" test "$(count "$p1" \
	'.CERTVIGIL_ALERT == "new" and .CERTVIGIL_FINDING == "tls.expiry.critical" and .CERTVIGIL_ADDRESS == "127.0.0.2" and .PRIORITY == "2"
	and (.MESSAGE | test("for api.mixed.example.test, console.mixed.example.test and 2 more expires"))')" = 1
# (4 audits or more: SIGTERM may find a fifth one done.)
assert_ok "run 1: only the first summary counts alerts" test "$(jd_entries _PID="$p1" MESSAGE_ID=33c69ec63b3645e7ab40f64eaf7764f7 |
	jq -rs 'map(.CERTVIGIL_ALERTS | tonumber) | length >= 4 and .[0] > 0 and all(.[1:][]; . == 0)')" = true
assert_ok "run 1: the state says no state yet" grep -q "no state in $state/state.json yet" "$SB_DIR/daemon.err"
assert_ok "state.json: 1 open finding, about the certificate, with first_seen and last_alerted" jq -e '
	.format == 2 and ([.platforms[0].findings[] | select(.id | test("^tls\\.(expiry|connect)\\."))] | length == 1
		and all(.[]; .first_seen > 0 and .last_alerted >= .first_seen and .severity == "critical"
			and (.subject | test("^cert [0-9a-f]{64}$"))))' "$state/state.json"
assert_ok "state.json: the last certificate of all 8 endpoints" jq -e '
	.platforms[0].certificates | length == 8 and all(.[]; (.sha256 | test("^[0-9a-f]{64}$")) and .not_after > 0)' \
	"$state/state.json"
first_seen=$(jq '.platforms[0].findings[0].first_seen' "$state/state.json")

# --- 2. persist across a restart ---------------------------------------------------
run_daemon "run 2" 4
assert_ok "run 2 (restart): no alerts for the same findings" test "$(count "$dpid")" = 0
assert_ok "run 2: first_seen kept" test "$(jq '.platforms[0].findings[0].first_seen' "$state/state.json")" = "$first_seen"

# --- 3. fixed: 127.0.0.2 now serves the good certificate for api ------------------
sb_nginx_add_server fix 127.0.0.2 api.mixed.example.test mixed
run_daemon "run 3" 3
p3=$dpid
# The old certificate is still served for 3 names: the same problem, no news.
assert_ok "run 3 (api fixed): no alert, the old certificate is still served" test "$(count_mine "$p3")" = 0
assert_ok "state.json: the same open finding, now first on console, the new certificate of api/127.0.0.2 recorded" jq -e '
	.platforms[0] | ([.findings[] | select(.id | test("^tls\\.(expiry|connect)\\."))]
		| length == 1 and .[0].name == "console.mixed.example.test" and .[0].first_seen == '"$first_seen"')
	and ([.certificates[] | select(.name == "api.mixed.example.test") | .sha256] | unique | length == 1)' \
	"$state/state.json"

# --- 4. kill -9 at any moment, then restart: no alert storm ------------------------
# The moments of the kills are the experiment, not waits: from start-up to
# the middle of the second audit.
killed=()
for delay in 0.01 0.05 0.12 0.2 0.33; do
	daemon_start
	sb__sleep "$delay"
	rc=0
	daemon_stop KILL || rc=$?
	assert_eq "kill -9 after ${delay} s: the daemon dies of SIGKILL" 137 "$rc"
	killed+=("$dpid")
done
run_daemon "after kill -9" 4
n=$(count "$dpid")
for pid in "${killed[@]}"; do
	n=$((n + $(count "$pid")))
done
assert_ok "kill -9 (5 times) and restart: no alerts at all ($n)" test "$n" = 0
assert_ok "state.json is whole after kill -9" jq -e '[.platforms[0].findings[] | select(.id | test("^tls\\.(expiry|connect)\\."))] | length == 1' "$state/state.json"

# --- 5. a new problem appears while running, persists, and is fixed live ---------
# auth.mixed gets a third address where nothing listens.
for a in 127.0.0.1 127.0.0.2 127.0.0.3; do
	sb_knot_set auth.mixed.example.test A "$a"
done
: >"$SB_DIR/daemon.err"
daemon_start
assert_ok "appears: the daemon reports 4 audits done" cv_wait_audits 4
assert_ok "appears: their 4 summaries are in the journal" \
	jd_wait_count 4 _PID="$dpid" MESSAGE_ID=33c69ec63b3645e7ab40f64eaf7764f7
assert_ok "appears: tls.connect.failed on auth/127.0.0.3, once, in 4 audits" test "$(count "$dpid" '
	.CERTVIGIL_ALERT == "new" and .CERTVIGIL_FINDING == "tls.connect.failed" and .CERTVIGIL_ADDRESS == "127.0.0.3"
	and .CERTVIGIL_PORT != null')" = 1
assert_ok "appears: nothing else alerted" test "$(count_mine "$dpid")" = 1
sb_knot_unset auth.mixed.example.test A 127.0.0.3
assert_ok "fixed live: the daemon reports 3 more audits" cv_wait_more_audits 3
assert_ok "fixed live: their summaries are in the journal" \
	jd_wait_count "$(cv_audits_done)" _PID="$dpid" MESSAGE_ID=33c69ec63b3645e7ab40f64eaf7764f7
assert_ok "fixed live: finding.resolved for tls.connect.failed (the name no longer has the address)" \
	test "$(count "$dpid" '.CERTVIGIL_RESOLVED == "tls.connect.failed" and .CERTVIGIL_ADDRESS == "127.0.0.3"')" = 1
assert_ok "fixed live: 2 alerts in all" test "$(count_mine "$dpid")" = 2
rc=0
daemon_stop TERM || rc=$?
assert_eq "fixed live: SIGTERM ends the daemon with status 0" 0 "$rc"

# --- 6. remind ----------------------------------------------------------------------
write_cfg 1s
# The open problem was alerted more than 1 s ago: the first audit reminds
# it, the second (100 ms later) nothing.
run_daemon "remind 1s" 2
r=$(alerts_of "$dpid" ".CERTVIGIL_ALERT == \"reminder\" and ($MINE)" | jq -s '[.[] | "\(.CERTVIGIL_NAME)"] | unique | length')
assert_ok "remind 1s: reminders for the 1 problem ($r)" test "$r" = 1
assert_ok "remind 1s: nothing but reminders" test "$(count "$dpid" '.CERTVIGIL_ALERT != "reminder"')" = 0
assert_ok "remind: MESSAGE says since when" test "$(count "$dpid" '.MESSAGE | test("still open since 20")')" -ge 1
write_cfg

# --- 6b. a state.json of format 1: one entry per endpoint, taken over quietly -----------
# What an earlier certvigil wrote for today's problem: one open finding per
# endpoint served the old certificate, without subjects.
jq '.format = 1 | .platforms[0].findings |= [.[] | del(.subject) as $f |
	(if ($f.id | test("^tls\\.expiry\\.")) then
		(["console", "grafana", "auth"][] as $s | $f | .name = "\($s).mixed.example.test")
	else $f end)]' "$state/state.json" >"$state/state.json.1"
mv "$state/state.json.1" "$state/state.json"
assert_ok "format 1 state: written with 3 per-endpoint entries (else this tests nothing)" jq -e '
	.format == 1 and ([.platforms[0].findings[] | select(.id | test("^tls\\.expiry\\."))] | length == 3)' \
	"$state/state.json"
run_daemon "format 1 state" 3
assert_ok "format 1 state: no alert at all, neither new nor resolved" test "$(count "$dpid")" = 0
assert_ok "format 1 state: saved as format 2, one finding with its subject, first_seen kept" jq -e '
	.format == 2 and ([.platforms[0].findings[] | select(.id | test("^tls\\.expiry\\."))]
		| length == 1 and (.[0].subject | test("^cert ")) and .[0].first_seen == '"$first_seen"')' "$state/state.json"

# --- 7. corrupt and truncated state ------------------------------------------------
printf '{ "format": 1, "platforms": [ {"name": ' >"$state/state.json"
run_daemon "truncated state" 3
assert_ok "truncated state: logged with its position" \
	grep -qE "$state/state.json:1:[0-9]+: .*starting with an empty state" "$SB_DIR/daemon.err"
assert_ok "truncated state: rebuilt, the open finding alerted once more" test "$(count "$dpid" ".CERTVIGIL_ALERT == \"new\" and ($MINE)")" = 1
assert_ok "truncated state: state.json is valid again" jq -e '[.platforms[0].findings[] | select(.id | test("^tls\\.(expiry|connect)\\."))] | length == 1' "$state/state.json"
printf '\x00\xff garbage' >"$state/state.json"
run_daemon "corrupt state" 3
assert_ok "corrupt state: logged" grep -q "starting with an empty state" "$SB_DIR/daemon.err"
assert_ok "corrupt state: 1 alert once more, then quiet" test "$(count_mine "$dpid")" = 1
printf '{"format": 1, "platforms": [{"name": "mixed", "findings": 3}]}' >"$state/state.json"
run_daemon "wrong types" 3
assert_ok "wrong types in state: logged and rebuilt" grep -q "$state/state.json: .*starting with an empty state" "$SB_DIR/daemon.err"
assert_ok "wrong types in state: the daemon kept auditing (1 alert)" test "$(count_mine "$dpid")" = 1

# --- 8. the oneshot shares the discipline ------------------------------------------
o=$SB_DIR/oneshot
for run in 1 2; do
	rc=0
	"$SB_CERTVIGIL" audit --config "$cfg" --journal --state-dir "$o" --format json -o "$SB_DIR/o$run.json" \
		2>/dev/null &
	opid=$!
	wait "$opid" || rc=$?
	assert_ok "oneshot run $run: its audit summary is in the journal" \
		jd_wait_count 1 _PID="$opid" MESSAGE_ID=33c69ec63b3645e7ab40f64eaf7764f7
	assert_ok "oneshot run $run: exit status 2 (critical open)" test "$rc" = 2
	if ((run == 1)); then n=$(count_mine "$opid"); else n=$(count "$opid"); fi
	assert_ok "oneshot run $run: $((run == 1 ? 1 : 0)) alerts ($n)" test "$n" = $((run == 1 ? 1 : 0))
done
rc=0
"$SB_CERTVIGIL" audit --config "$cfg" --state-dir "$o" --fail-on never >/dev/null 2>&1 || rc=$?
assert_ok "oneshot --fail-on never: exit 0" test "$rc" = 0

cv_finish
