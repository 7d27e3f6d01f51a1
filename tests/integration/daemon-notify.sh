#!/bin/bash
#
# daemon-notify.sh: `certvigil daemon` and the systemd notify protocol, with
# a NOTIFY_SOCKET of the test's own (tests/tools/notify-listen) and a private
# journald.  READY=1 after the config is loaded; STATUS= after every audit;
# WATCHDOG=1 when WATCHDOG_USEC is set; RELOADING=1 then READY=1 around
# SIGHUP, with a good config (swapped in) and a broken one (FILE:LINE:COL
# logged, the old one stays); a platform whose audit outlives its interval
# is never audited twice at once; SIGTERM with audits in flight exits 0 in
# under a second.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start journald
jd_start
cv_notify_start

# wait_for REGEX [N] [MS]: until the notify log has N lines matching.
wait_for() {
	local re=$1 n=${2:-1} ms=${3:-5000} deadline
	deadline=$(($(sb__ms) + ms))
	while (($(grep -cE -- "$re" "$log" || true) < n)); do
		(($(sb__ms) < deadline)) || return 1
		sb__sleep 0.01
	done
}

cfg=$SB_DIR/certvigil.yaml
write_cfg() {
	sb_write_config "$cfg"
}
write_cfg <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    interval: 150ms
    jitter: 0s
EOF

NOTIFY_SOCKET=$notify WATCHDOG_USEC=300000 sb__spawn daemon "$SB_DIR/daemon.err" \
	"$SB_CERTVIGIL" daemon --config "$cfg" --state-dir "$SB_DIR/state"
assert_ok "READY=1 after start" wait_for '^[0-9]+ READY=1$' 1 5000
assert_ok "STATUS= after audits (3 done)" wait_for 'STATUS=1 platform, 0 critical, 0 warning, [3-9][0-9]* audits done' 1 5000
assert_ok "the first READY=1 comes before the first STATUS with an audit done" \
	test "$(grep -nE 'READY=1|audits? done' "$log" | grep -v '0 audits done' | head -1 | grep -c READY)" = 1
assert_ok "STATUS names platforms, severities and the next audit" \
	grep -qE 'STATUS=1 platform, 0 critical, 0 warning, [0-9]+ audits? done, (next audit in [0-9]+(ms|s|m|h)|auditing now)$' "$log"
assert_ok "WATCHDOG=1 pings at WATCHDOG_USEC/2 (at least 3)" wait_for '^[0-9]+ WATCHDOG=1$' 3 3000

# --- reload: a good config -------------------------------------------------------
# It adds "slow", the tarpit: every handshake waits for its 1 s timeout, so
# its audits outlive their 100 ms interval.
write_cfg <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    interval: 150ms
    jitter: 0s
  - name: slow
    global: { baseDomain: tarpit.example.test }
    interval: 100ms
    timeout: 1s
  - name: warn
    global: { baseDomain: warn.example.test }
    interval: 150ms
EOF
kill -HUP "$(sb_pid daemon)"
assert_ok "SIGHUP: RELOADING=1" wait_for 'RELOADING=1' 1 3000
assert_ok "SIGHUP: READY=1 again after RELOADING=1" wait_for '^[0-9]+ READY=1$' 2 3000
assert_ok "SIGHUP: RELOADING=1 carries MONOTONIC_USEC" grep -qE '^[0-9]+ MONOTONIC_USEC=[0-9]+$' "$log"
assert_ok "the reloaded config is in force (3 platforms, warnings found)" \
	wait_for 'STATUS=3 platforms, [0-9]+ critical, [1-9][0-9]* warning' 1 5000
assert_ok "the reload is logged" grep -q "reloaded $cfg: 3 platforms" "$SB_DIR/daemon.err"

# --- reload: a broken config -----------------------------------------------------
cp "$cfg" "$SB_DIR/good.yaml"
printf '  - name: broken\n    global: { baseDomain: b.example.test }\n    bogus: 1\n' >>"$cfg"
line=$(($(wc -l <"$cfg")))
kill -HUP "$(sb_pid daemon)"
assert_ok "broken config: RELOADING=1 then READY=1" wait_for '^[0-9]+ READY=1$' 3 3000
assert_ok "broken config: logged with FILE:LINE:COL, old config kept" \
	grep -q "reload failed, keeping the running config: $cfg:$line:5: unknown key 'bogus'" "$SB_DIR/daemon.err"
before=$(cv_audits_done)
assert_ok "broken config: audits go on with the old config" \
	wait_for "STATUS=3 platforms, [0-9]+ critical, [1-9][0-9]* warning, $((before + 3)) audits done" 1 5000

# --- an audit that outlives its interval -----------------------------------------
assert_ok "the slow platform was audited 3 times" \
	jd_wait_count 3 CERTVIGIL_PLATFORM=slow MESSAGE_ID=33c69ec63b3645e7ab40f64eaf7764f7
jd_entries CERTVIGIL_PLATFORM=slow MESSAGE_ID=33c69ec63b3645e7ab40f64eaf7764f7 >"$SB_DIR/slow.json"
assert_ok "every slow audit took its 1 s timeout" \
	jq -se 'all(.[]; (.CERTVIGIL_DURATION_MS | tonumber) >= 900)' "$SB_DIR/slow.json"
# Two overlapping audits would end within milliseconds of each other.
assert_ok "slow audits never overlap (ends at least 0.9 s apart)" jq -se '
	[.[] | .__MONOTONIC_TIMESTAMP | tonumber] | sort as $t
	| [range(1; $t | length) | $t[.] - $t[. - 1]] | all(. >= 900000)' "$SB_DIR/slow.json"

# --- SIGTERM with audits in flight -----------------------------------------------
pid=$(sb_pid daemon)
t0=$(sb__ms)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
elapsed=$(($(sb__ms) - t0))
unset 'SB_PIDS[daemon]'
assert_ok "SIGTERM: exit status 0 (was $rc)" test "$rc" = 0
assert_ok "SIGTERM: gone in under 1 s (${elapsed} ms) with the slow audit in flight" test "$elapsed" -lt 1000
assert_ok "SIGTERM: STOPPING=1 sent" wait_for 'STOPPING=1' 1 1000
assert_ok "the daemon wrote nothing alarming on stderr" bash -c "! grep -vE 'no state in|reloaded|reload failed' '$SB_DIR/daemon.err'"

cv_finish
