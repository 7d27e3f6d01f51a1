#!/bin/bash
#
# state-shared.sh: `certvigil daemon` and a oneshot `certvigil audit` share
# one --state-dir and neither loses the other's state. The daemon audits
# platform "d" over and over; between two of its settlings, a oneshot
# audits platform "o", whose renewal is due (soon.example.test: 5 days
# left) and whose hook fails at once, so the oneshot writes o's alert
# state and a renewal guardrail (one trigger, one failure). The daemon
# settles twice more: state.json must still hold o's alert state and
# guardrail beside d's. The daemon re-reads state.json only when another
# process replaced it (state.c): were that check to take the oneshot's
# file for its own, the daemon would write its memory back without them.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox
cv_notify_start

state=$SB_DIR/state
mkdir -p "$state"
cv_failing_hook
runs=$CV_HOOK_RUNS

cv_config daemon <<EOF
  - name: d
    global: { baseDomain: soon.example.test }
    interval: 100ms
    jitter: 0s
EOF
daemon_cfg=$CV_CFG
cv_config oneshot <<EOF
  - name: o
    global: { baseDomain: soon.example.test }
    renew:
      enabled: true
      command: [bash, "$SB_DIR/hook.sh"]
      min_interval: 1h
      verify_every: 1s
      verify_timeout: 3s
EOF

NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/daemon.err" \
	"$SB_CERTVIGIL" daemon --config "$daemon_cfg" --state-dir "$state"
assert_ok "the daemon reports 2 audits done" cv_wait_audits 2
assert_jq "the daemon's platform is in state.json" '[.platforms[].name]' '["d"]' "$state/state.json"

cv_audit oneshot --state-dir "$state"
assert_exit 2
assert_eq "the oneshot's hook ran once" "o" "$(cat "$runs" 2>/dev/null || true)"
assert_jq "the oneshot reports the trigger" '[.platforms[].findings[].id | select(. == "renew.triggered")]' \
	'["renew.triggered"]'

assert_ok "the daemon settles twice more" cv_wait_more_audits 2
assert_jq "both platforms' alert state is kept" '[.platforms[].name] | sort' '["d","o"]' "$state/state.json"
assert_jq "the oneshot's findings are kept" \
	'[.platforms[] | select(.name == "o") | (.findings | length) > 0]' '[true]' "$state/state.json"
assert_jq "the oneshot's guardrail is kept: one trigger, one failure" \
	'.renewal.platforms.o | [(.triggers | length), .failures]' '[1,1]' "$state/state.json"

assert_ok "the daemon is still running" sb__is_running "$(sb_pid daemon)"
sb_stop
cv_finish
