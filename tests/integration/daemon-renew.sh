#!/bin/bash
#
# daemon-renew.sh: the daemon triggers renewal too, with the guardrails it
# shares with the oneshot (the "renewal" key of state.json). The sandbox's
# soon.example.test (5 days left) is served by a reloadable nginx; the hook
# installs a new 80-day certificate and reloads it. With a 1 s interval:
#   1. the daemon's first audit finds tls.expiry.critical, runs the hook
#      once, re-audits until every address serves the new certificate, and
#      records the trigger and the success in state.json, where the alert
#      state that each audit saves keeps them
#   2. later audits (several intervals) find a healthy platform and never
#      run the hook again
#   3. with --no-renew the daemon monitors only: the hook never runs
#   4. SIGTERM ends the daemon with status 0

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox certtool gnutls-cli
cv_notify_start

if ! sb_serve_soon nginx-renew; then
	cv_fail "the reloadable nginx starts"
	cv_finish
fi
port=$SB_SERVE_PORT
nginx_pid=$(sb_pid nginx-renew)

cat >"$SB_DIR/hook.sh" <<EOF
#!/bin/bash
set -u
d=$SB_DIR
echo run >>"\$d/hook-runs"
exec bash "\$d/reissue.sh"
EOF
sb_write_reissue "$SB_DIR/reissue.sh" "*.soon.example.test" "$nginx_pid"

cv_config renew <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    tls: { mode: provided }
    port: $port
    interval: 1s
    jitter: 0s
    renew:
      enabled: true
      command: [bash, "$SB_DIR/hook.sh"]
      timeout: 10s
      verify_every: 500ms
      verify_timeout: 15s
EOF

# state_holds FILTER: the jq filter yields true on state.json.
state_holds() {
	[[ -s $state/state.json && $(jq -r "$1" "$state/state.json" 2>/dev/null) == true ]]
}

# --- 1 and 2: renewal from the daemon ---------------------------------------------------------
state=$SB_DIR/state
NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/daemon.out" \
	"$SB_CERTVIGIL" daemon --config "$CV_CFG" --state-dir "$state"
daemon_pid=$(sb_pid daemon)
if cv_wait_until 20000 state_holds \
	'.renewal.platforms.soon | ((.triggers // []) | length) == 1 and .failures == 0 and (has("verifying") | not)'; then
	cv_pass "the daemon's renewal succeeded and is recorded"
else
	cv_fail "the daemon's renewal succeeded and is recorded"
	cv_log "state.json: $(cat "$state/state.json" 2>/dev/null)"
	cv_log "daemon output: $(tail -20 "$SB_DIR/daemon.out")"
fi
assert_eq "the hook ran once" 1 "$(wc -l <"$SB_DIR/hook-runs" 2>/dev/null || echo 0)"
# Three more audits of the renewed platform: healthy, and no new trigger.
assert_ok "the daemon reports three more audits" cv_wait_more_audits 3 10000
assert_eq "later audits do not run the hook again" 1 "$(wc -l <"$SB_DIR/hook-runs")"
assert_jq "state.json holds the alert state and, under \"renewal\", the one trigger" \
	'[(.platforms | type), (.renewal.platforms.soon.triggers | length)]' '["array",1]' "$state/state.json"
assert_jq "state.json: nothing open once the new certificate is served" \
	'[.platforms[] | select(.name == "soon") | .findings[] | select(.severity != "info")] | length' 0 "$state/state.json"
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
unset 'SB_PIDS[daemon]'
assert_eq "SIGTERM: the daemon exits 0" 0 "$rc"

# --- 3: --no-renew -------------------------------------------------------------------------
sb_serve_soon_again nginx-renew
rm -f "$SB_DIR/hook-runs"
: >"$CV_NOTIFY_LOG"
NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/daemon2.out" \
	"$SB_CERTVIGIL" daemon --config "$CV_CFG" --state-dir "$SB_DIR/state2" --no-renew
daemon_pid=$(sb_pid daemon)
# Part 1 ran the hook at the first audit; here three audits run none.
assert_ok "--no-renew: the daemon reports three audits" cv_wait_audits 3 10000
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
unset 'SB_PIDS[daemon]'
assert_eq "--no-renew: the daemon exits 0" 0 "$rc"
assert_ok "--no-renew: the hook never ran" test ! -e "$SB_DIR/hook-runs"
assert_jq "--no-renew: the expiry is still an open finding" \
	'[.platforms[] | select(.name == "soon") | .findings[] | select(.id == "tls.expiry.critical")] | length > 0' true \
	"$SB_DIR/state2/state.json"

cv_finish
