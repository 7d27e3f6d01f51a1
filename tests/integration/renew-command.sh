#!/bin/bash
#
# renew-command.sh: the command method and the guardrails across oneshot
# runs (--state-dir), against the sandbox's soon.example.test (5 days left:
# tls.expiry.critical).  The hook is a script of this test: it records its
# environment, prints on stdout and stderr, and then, after the mode file,
# installs a new 80-day certificate and reloads nginx (ok), exits 3 (fail),
# hangs with a child (hang), or changes nothing (noop).  Later runs move
# the wall clock along with short intervals: faketime cannot be used here,
# as sd-event's timers (renew.timeout, verify_every) never fire under it.
#   1. --no-renew: only tls.expiry.critical; the hook never runs; no state
#   2. --dry-run: renew.triggered says what would run; the hook never runs;
#      no state is written
#   3. ok: renew.triggered (exit 0) and renew.succeeded naming the old and
#      the new serial; the report shows the new certificate (no finding
#      left but renewal's, exit 0); the hook saw every CERTVIGIL_* variable;
#      its output reached stderr line by line
#   4. old certificate back, hook fails (renew.min_interval 1s): renew.failed
#      (critical, exit 3 and the hook's last lines quoted); at once
#      renew.suppressed (backoff, next attempt 2 s after); then fails again;
#      at once backoff and the weekly cap (3) both hold and the cap, ending
#      later (a week after the first trigger), is named
#   5. fresh state, hang: killed with its child after renew.timeout (2s)
#   6. noop: exit 0 but no new certificate: renew.failed after
#      renew.verify_timeout (3s)
#   7. a verification left open by an earlier run is finished by the next,
#      without running the hook again
#   8. a corrupt state file: a warning, and the audit goes on; a state
#      directory that cannot be written: exit 3 unless --no-renew
#   9. SIGTERM while the hook hangs: certvigil kills the hook's process
#      group and ends by SIGTERM (it used to die at once and leave the
#      hook and its children running, unsupervised, past renew.timeout)

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox certtool gnutls-cli

# The platform is served by an nginx that can reload, on a port of its own.
state=$SB_DIR/state
mkdir -p "$state"
p=$SB_DIR/pki
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
mode=\$(cat "\$d/hook-mode")
# certvigil's own environment passes through (CERTVIGIL_DATA_DIR under make check).
env | grep '^CERTVIGIL_' | grep -v '^CERTVIGIL_DATA_DIR=' | sort >"\$d/hook-env.\$mode"
echo "hook: renewing \$CERTVIGIL_WILDCARD (\$mode)"
echo "hook: a line on stderr" >&2
case \$mode in
fail)
	printf 'hook: the CA said no\n' >&2
	exit 3 ;;
hang)
	(exec -a cv-hang-$$ sleep 300) &
	wait
	exit 0 ;;
noop)
	exit 0 ;;
esac
exec bash "\$d/reissue.sh"
EOF
sb_write_reissue "$SB_DIR/reissue.sh" "*.soon.example.test" "$nginx_pid"

cv_config renew <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    port: $port
    renew:
      enabled: true
      command: [bash, "$SB_DIR/hook.sh"]
      timeout: 2s
      min_interval: 1s
      max_per_week: 3
      verify_every: 1s
      verify_timeout: 3s
EOF

# The soon certificate is 10 days into its 15: tls.renewal.overdue (once per
# platform) comes with the expiry finding, and both make renewal due.
# One problem, the expiring certificate of every name (issue 12); its overdue
# renewal is why, folded under it, and still a reason to renew.
critical="soon tls.expiry.critical critical api.soon.example.test 127.0.0.1
soon tls.renewal.overdue warning api.soon.example.test 127.0.0.1 <-tls.expiry.critical"
renew_lines() {
	local id
	for id in "$@"; do
		printf 'soon %s\n' "$id"
	done
}
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# --- 1. --no-renew ------------------------------------------------------------------

echo ok >"$SB_DIR/hook-mode"
cv_audit norenew --no-renew --state-dir "$SB_DIR/nonexistent"
assert_exit 2
assert_findings "$critical"
assert_eq "norenew: the hook did not run" "" "$(ls "$SB_DIR"/hook-env.* 2>/dev/null || true)"

# --- 2. --dry-run ---------------------------------------------------------------------

cv_audit dryrun --dry-run --state-dir "$state"
assert_exit 2
assert_findings "$critical
$(cv_expect soon renew.triggered info - -)"
assert_messages renew.triggered \
	"^renewal triggered by command because of tls.expiry.critical,tls.renewal.overdue: dry run, would run: bash $SB_DIR/hook.sh\$"
assert_eq "dryrun: the hook did not run" "" "$(ls "$SB_DIR"/hook-env.* 2>/dev/null || true)"
assert_eq "dryrun: no state written" "" "$(ls "$state")"

# --- 3. the hook renews ------------------------------------------------------------------

serial_of() { sb_cert_serial "$1"; }
old_serial=$(serial_of "$p/soon.pem")
cv_audit ok --state-dir "$state"
new_serial=$(serial_of "$SB_DIR/new.pem")
assert_exit 0
assert_findings "$(cv_expect soon renew.triggered info - -)
$(cv_expect soon renew.succeeded info - -)"
assert_messages renew.triggered \
	"^renewal triggered by command because of tls.expiry.critical,tls.renewal.overdue: command exited with status 0\$"
assert_messages renew.succeeded \
	"^new certificate served on every address: serial $new_serial \\(notAfter $ts\\) replaces $old_serial \\(notAfter $ts\\)\$"
assert_jq "ok: the report shows the new certificate everywhere" \
	'[.platforms[].endpoints[].certificate.serial] | unique' "[\"$new_serial\"]"
assert_eq "ok: the hook's environment" \
	"CERTVIGIL_BASE_DOMAIN=soon.example.test
CERTVIGIL_CHALLENGE_NAME=_acme-challenge.soon.example.test
CERTVIGIL_NOT_AFTER=T
CERTVIGIL_OLD_SERIAL=$old_serial
CERTVIGIL_PLATFORM=soon
CERTVIGIL_REASON=tls.expiry.critical,tls.renewal.overdue
CERTVIGIL_WILDCARD=*.soon.example.test" "$(sed -E 's/(NOT_AFTER=).*/\1T/' "$SB_DIR/hook-env.ok")"
assert_match "ok: CERTVIGIL_NOT_AFTER is the old notAfter" "=$ts\$" "$(grep NOT_AFTER "$SB_DIR/hook-env.ok")"
assert_eq "ok: the hook's output, line by line, on stderr" \
	"certvigil: platform 'soon': renew.command stdout: hook: renewing *.soon.example.test (ok)
certvigil: platform 'soon': renew.command stderr: hook: a line on stderr
certvigil: platform 'soon': renew.command stdout: hook: installed" "$(grep 'renew.command' "$CV_STDERR")"
t0=$(jq '.renewal.platforms.soon.triggers[0]' "$state/state.json")
assert_jq "ok: state: one trigger, no failure, nothing in flight" \
	'.renewal.platforms.soon | [(.triggers | length), .failures, has("verifying")]' '[1,0,false]' "$state/state.json"

# --- 4. failures, backoff, weekly cap ---------------------------------------------------------

sb_serve_soon_again nginx-renew
echo fail >"$SB_DIR/hook-mode"
cv_wait_clock "$t0"
cv_audit fail1 --state-dir "$state"
assert_exit 2
assert_findings "$critical
$(cv_expect soon renew.failed critical - -)
$(cv_expect soon renew.triggered info - -)"
assert_messages renew.triggered "^renewal triggered by command because of tls.expiry.critical,tls.renewal.overdue: command exited with status 3\$"
assert_messages renew.failed \
	"^renewal by command \\(because of tls.expiry.critical,tls.renewal.overdue\\) failed: command exited with status 3; last output: hook: renewing \\*.soon.example.test \\(fail\\) \\| hook: a line on stderr \\| hook: the CA said no\$"
t1=$(jq '.renewal.platforms.soon.triggers[1]' "$state/state.json")

cv_audit backoff --state-dir "$state"
assert_exit 2
assert_findings "$critical
$(cv_expect soon renew.suppressed info - -)"
assert_messages renew.suppressed \
	"^renewal due because of tls.expiry.critical,tls.renewal.overdue held back: backing off after failed renewals \\(next attempt $(at $((t1 + 2))))\$"

cv_wait_clock $((t1 + 1))
cv_audit fail2 --state-dir "$state"
assert_findings "$critical
$(cv_expect soon renew.failed critical - -)
$(cv_expect soon renew.triggered info - -)"

# Backoff (4 s now) and the weekly cap (3 triggers) both hold: the one that
# ends later is named.
cv_audit cap --state-dir "$state"
assert_exit 2
assert_findings "$critical
$(cv_expect soon renew.suppressed info - -)"
assert_messages renew.suppressed \
	"^renewal due because of tls.expiry.critical,tls.renewal.overdue held back: renew.max_per_week triggers in the last 7 days \\(next attempt $(at $((t0 + 604800))))\$"
assert_jq "cap: state: 3 triggers, 2 failures" '.renewal.platforms.soon | [(.triggers | length), .failures]' '[3,2]' \
	"$state/state.json"

# --- 5. a hanging hook is killed with its children ----------------------------------------------

rm -f "$state/state.json"
echo hang >"$SB_DIR/hook-mode"
cv_audit hang --state-dir "$state"
assert_exit 2
assert_findings "$critical
$(cv_expect soon renew.failed critical - -)
$(cv_expect soon renew.triggered info - -)"
assert_messages renew.triggered \
	"^renewal triggered by command because of tls.expiry.critical,tls.renewal.overdue: killed after renew.timeout \\(2s\\)\$"
assert_slower "hang: waited for renew.timeout" "$CV_MS" 1900
assert_faster "hang: killed at renew.timeout" "$CV_MS" 8000
assert_eq "hang: the hook's child is gone too" "" "$(pgrep -f "cv-hang-$$" || true)"
t3=$(jq '.renewal.platforms.soon.triggers[0]' "$state/state.json")

# --- 6. exit 0 but nothing new is served ---------------------------------------------------------

echo noop >"$SB_DIR/hook-mode"
cv_wait_clock $((t3 + 2))
cv_audit noop --state-dir "$state"
assert_exit 2
assert_messages renew.triggered "^renewal triggered by command because of tls.expiry.critical,tls.renewal.overdue: command exited with status 0\$"
assert_messages renew.failed \
	"^renewal by command \\(because of tls.expiry.critical,tls.renewal.overdue\\) failed: no new certificate was served on every address within renew.verify_timeout \\(3s\\)\$"
assert_slower "noop: verified until renew.verify_timeout" "$CV_MS" 2900
assert_jq "noop: state: 2 failures in a row" '.renewal.platforms.soon.failures' '2' "$state/state.json"

# --- 7. a verification left open by an earlier run ---------------------------------------------

rm -f "$SB_DIR"/hook-env.*
now=$(date -u +%s)
cur=$(jq -r '.platforms[0].endpoints[0].certificate.serial' "$SB_DIR/noop.json")
# Written as certvigil wrote serials before they followed openssl (lower
# case, DER's 00 byte in front): after the upgrade it is still the old
# certificate, so the verification times out instead of succeeding.
jq --argjson d $((now + 2)) --arg s "00${cur,,}" '.renewal.platforms.soon.verifying = {deadline: $d, method: "command",
	reason: "tls.expiry.critical", old_serials: [$s], old_serial: $s, old_not_after: 0}' \
	"$state/state.json" >"$state/state.json.new"
mv "$state/state.json.new" "$state/state.json"
cv_audit resume --state-dir "$state"
assert_findings "$critical
$(cv_expect soon renew.failed critical - -)"
assert_eq "resume: the hook did not run again" "" "$(ls "$SB_DIR"/hook-env.* 2>/dev/null || true)"
assert_jq "resume: nothing in flight any more" '.renewal.platforms.soon | has("verifying")' 'false' "$state/state.json"

# --- 8. a corrupt state, an unwritable state directory ------------------------------------------

printf '{"format": 1, "platforms": {' >"$state/state.json"
cv_audit corrupt --dry-run --state-dir "$state"
assert_exit 2
assert_match "corrupt: a warning names the file" \
	"^certvigil: $state/state.json:1:[0-9]+: .*; cannot read the renewal state" "$(cat "$CV_STDERR")"
assert_findings "$critical
$(cv_expect soon renew.triggered info - -)"

# A missing directory is created (as for the alert state); one that cannot be is an error.
cv_run nodir "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json --state-dir "$SB_DIR/renew.yaml/state"
assert_exit 3
assert_match "nodir: says why" "state directory $SB_DIR/renew.yaml/state is not a writable directory" "$(cat "$CV_STDERR")"

# --- 9. SIGTERM while the hook runs ----------------------------------------------------------------

rm -f "$state/state.json" "$SB_DIR"/hook-env.*
echo hang >"$SB_DIR/hook-mode"
hang_pids() { pgrep -f "cv-hang-$$"; }
no_hang() { ! hang_pids >/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
"$SB_CERTVIGIL" audit --config "$CV_CFG" --state-dir "$state" --format json -o "$SB_DIR/term.json" \
	>"$SB_DIR/term.out" 2>"$SB_DIR/term.err" </dev/null &
pid=$!
assert_ok "term: the hook and its child run" cv_wait_until 10000 hang_pids
kill -TERM "$pid"
if cv_wait_until 5000 gone "$pid"; then
	rc=0
	wait "$pid" || rc=$?
	assert_ok "term: certvigil ends by SIGTERM (status $rc)" test "$rc" = 143
else
	cv_fail "term: certvigil ends within 5 s of SIGTERM"
	# Not left running past the test, with the hook it would wait on.
	kill -KILL "$pid" 2>/dev/null || :
	wait "$pid" 2>/dev/null || :
fi
assert_ok "term: says so" grep -qx "certvigil: stopped by SIGTERM: audits abandoned, no report written" \
	"$SB_DIR/term.err"
assert_ok "term: the hook's process group was killed with it" cv_wait_until 2000 no_hang
assert_ok "term: no report" test ! -e "$SB_DIR/term.json"
# Left behind when the group was not killed: stopped here, by id.
for p in $(hang_pids || true); do
	kill -KILL "$p" 2>/dev/null || true
done

cv_finish
