#!/bin/bash
#
# state-lock.sh: two `certvigil audit` runs at once against one --state-dir
# (the timer's oneshot and a person's run, say) never trigger a renewal
# twice and lose neither's state. The platform is the sandbox's
# soon.example.test (5 days left: tls.expiry.critical makes renewal due);
# the hook records every invocation in a file and fails, so each run ends
# at once.
#   1. the same platform, two runs started together: the hook ran exactly
#      once; one report has renew.triggered; the state records one trigger
#      and one failure; the alert state is there too
#   2. two platforms, one run each, together: each hook ran once and the
#      state keeps both platforms' triggers and alert state (neither run
#      wrote the other's stale copy back)
#   3. the lock held by someone else past certvigil's wait (5 s): exit 3,
#      a message naming the lock file, the hook never ran, state untouched

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox flock

state=$SB_DIR/state
mkdir -p "$state"
cv_failing_hook
runs=$CV_HOOK_RUNS

platform() {
	cat <<EOF
  - name: $1
    global: { baseDomain: soon.example.test }
    renew:
      enabled: true
      command: [bash, "$SB_DIR/hook.sh"]
      min_interval: 1h
      verify_every: 1s
      verify_timeout: 3s
EOF
}
cv_config lock < <(
	platform soon
	platform soon2
)

# together NAME1 NAME2 ARGS1... -- ARGS2...: two audits started at once, waited for.
together() {
	local a=$1 b=$2 pa pb rc
	shift 2
	local args_a=() args_b=()
	while [[ $1 != -- ]]; do
		args_a+=("$1")
		shift
	done
	shift
	args_b=("$@")
	"$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$SB_DIR/$a.json" --state-dir "$state" \
		"${args_a[@]}" >"$SB_DIR/$a.out" 2>"$SB_DIR/$a.err" </dev/null &
	pa=$!
	"$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$SB_DIR/$b.json" --state-dir "$state" \
		"${args_b[@]}" >"$SB_DIR/$b.out" 2>"$SB_DIR/$b.err" </dev/null &
	pb=$!
	rc=0
	wait "$pa" || rc=$?
	assert_eq "$a: exit status" 2 "$rc"
	rc=0
	wait "$pb" || rc=$?
	assert_eq "$b: exit status" 2 "$rc"
}

# --- 1. one platform, two runs --------------------------------------------------------

together one-a one-b --platform soon -- --platform soon
assert_eq "same platform: the hook ran exactly once" "soon" "$(cat "$runs" 2>/dev/null || true)"
# The other run is held back (renew.suppressed), or, started late enough to
# find the trigger in the file already, follows its verification.
assert_eq "same platform: one run reports the trigger" "renew.triggered" \
	"$(cat "$SB_DIR/one-a.json" "$SB_DIR/one-b.json" | jq -r '.platforms[].findings[].id' | grep '^renew.triggered$')"
assert_jq "same platform: state: one trigger, one failure" \
	'.renewal.platforms.soon | [(.triggers | length), .failures]' '[1,1]' "$state/state.json"
assert_jq "same platform: the alert state is kept too" \
	'[.platforms[] | select(.name == "soon") | (.findings | length) > 0]' '[true]' "$state/state.json"

# --- 2. two platforms, one run each -------------------------------------------------------

rm -f "$runs" "$state/state.json"
together two-a two-b --platform soon -- --platform soon2
assert_eq "two platforms: each hook ran once" "soon
soon2" "$(sort "$runs" 2>/dev/null || true)"
assert_jq "two platforms: both triggers are kept" \
	'[.renewal.platforms | to_entries[] | [.key, (.value.triggers | length), .value.failures]] | sort' \
	'[["soon",1,1],["soon2",1,1]]' "$state/state.json"
assert_jq "two platforms: both alert states are kept" '[.platforms[].name] | sort' '["soon","soon2"]' \
	"$state/state.json"

# --- 3. the lock held elsewhere ------------------------------------------------------------

rm -f "$runs" "$state/state.json"
cp /dev/null "$state/state.lock"
exec {lockfd}<"$state/state.lock"
flock -x "$lockfd"
cv_audit held --platform soon --state-dir "$state"
exec {lockfd}<&-
assert_exit 3
assert_match "held: the error names the lock" "$state/state.lock" "$(cat "$CV_STDERR")"
assert_eq "held: the hook did not run" "" "$(cat "$runs" 2>/dev/null || true)"
assert_eq "held: no state written" "no" "$([[ -e $state/state.json ]] && echo yes || echo no)"
assert_slower "held: waited for the lock" "$CV_MS" 4900
assert_faster "held: gave up within two waits" "$CV_MS" 15000

cv_finish
