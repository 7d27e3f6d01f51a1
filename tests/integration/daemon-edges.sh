#!/bin/bash
#
# daemon-edges.sh: the app layer at its edges (issue 9, defect 10).
#   1. STATE_DIRECTORY lists several directories ("a:b", as systemd sets it
#      for StateDirectory=a b): the daemon and the oneshot both use the first
#   2. STATUS= while an audit runs reads "auditing now", with no time span
#      glued to it
#   3. a trust file that cannot be used: the error gives errno's reason and
#      where the path was set (the config's FILE:LINE:COL, or --trust), in
#      the oneshot and in the daemon
#   4. SIGHUP while a renewal command runs: the command runs to its end, its
#      outcome is recorded, and the reloaded daemon does not run it again

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox
cv_notify_start

# stop_daemon NAME: SIGTERM; it must exit 0.
stop_daemon() {
	local pid rc=0
	pid=$(sb_pid "$1")
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	unset "SB_PIDS[$1]"
	assert_ok "$1: SIGTERM ends it with status 0 (was $rc)" test "$rc" = 0
}
# audits_after LINE: the daemon's last "N audits done" in the notify log
# after its line LINE (0 when none).
audits_after() {
	tail -n +"$(($1 + 1))" "$log" | grep -oE '[0-9]+ audits? done' | tail -1 | grep -oE '^[0-9]+' || echo 0
}
audits_reach() { # LINE N
	(($(audits_after "$1") >= $2))
}

# --- 1. STATE_DIRECTORY with several directories -----------------------------------
sd=$SB_DIR/sd
mkdir -p "$sd/first" "$sd/second"
cfg=$SB_DIR/ok.yaml
sb_write_config "$cfg" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    interval: 150ms
    jitter: 0s
EOF
STATE_DIRECTORY=$sd/first:$sd/second sb__spawn daemon-sd "$SB_DIR/daemon-sd.err" \
	"$SB_CERTVIGIL" daemon --config "$cfg"
assert_ok "daemon: state.json goes to the first of STATE_DIRECTORY's directories" \
	cv_wait_until 5000 test -s "$sd/first/state.json"
stop_daemon daemon-sd
assert_ok "daemon: nothing in the second" test ! -e "$sd/second/state.json"

rcfg=$SB_DIR/renew-ok.yaml
sb_write_config "$rcfg" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    renew: { enabled: true, command: [/bin/false] }
EOF
rc=0
STATE_DIRECTORY=$sd/one:$sd/two "$SB_CERTVIGIL" audit --config "$rcfg" >"$SB_DIR/oneshot-sd.out" \
	2>"$SB_DIR/oneshot-sd.err" || rc=$?
assert_ok "oneshot: a healthy platform with renewal on exits 0 (was $rc)" test "$rc" = 0
assert_ok "oneshot: renewal's state directory is the first of STATE_DIRECTORY's" test -d "$sd/one"
assert_ok "oneshot: no directory named after the whole list" test ! -e "$sd/one:$sd/two"

# --- 2. STATUS= while an audit runs -----------------------------------------------
# "slow" waits on the tarpit for its 1 s timeout; "ok" ends audits meanwhile.
scfg=$SB_DIR/status.yaml
sb_write_config "$scfg" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    interval: 100ms
    jitter: 0s
  - name: slow
    global: { baseDomain: tarpit.example.test }
    interval: 1h
    timeout: 1s
EOF
NOTIFY_SOCKET=$notify sb__spawn daemon-status "$SB_DIR/daemon-status.err" \
	"$SB_CERTVIGIL" daemon --config "$scfg" --state-dir "$SB_DIR/status-state"
assert_ok "STATUS: an audit in flight is reported" \
	cv_wait_until 5000 grep -qE 'STATUS=2 platforms, .* [1-9][0-9]* audits? done, auditing now' "$log"
assert_ok "STATUS: 'auditing now' ends the line" bash -c "! grep -E 'auditing now.' '$log'"
assert_ok "STATUS: with nothing in flight, the next audit's time" \
	cv_wait_until 5000 grep -qE 'STATUS=2 platforms, .* audits? done, next audit in [0-9]+(ms|s|m|h)$' "$log"
stop_daemon daemon-status

# --- 3. trust files that cannot be used ---------------------------------------------
tcfg=$SB_DIR/trust.yaml
SB_CFG_TRUST=$SB_DIR/missing-ca.pem sb_write_config "$tcfg" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    interval: 1h
EOF
tline=$(grep -n '^  trust: ' "$tcfg" | cut -d: -f1)
rc=0
"$SB_CERTVIGIL" audit --config "$tcfg" >"$SB_DIR/trust.out" 2>"$SB_DIR/trust.err" || rc=$?
sed 's/^/    stderr: /' "$SB_DIR/trust.err"
assert_ok "trust: a missing file is exit status 3 (was $rc)" test "$rc" = 3
assert_ok "trust: errno's reason" grep -q "missing-ca.pem: .*No such file or directory" "$SB_DIR/trust.err"
assert_ok "trust: where the path was set" grep -qF "(trust: at $tcfg:$tline:10)" "$SB_DIR/trust.err"
rc=0
"$SB_CERTVIGIL" audit --config "$cfg" --trust "$SB_DIR/pki" >"$SB_DIR/trust2.out" 2>"$SB_DIR/trust2.err" || rc=$?
sed 's/^/    stderr: /' "$SB_DIR/trust2.err"
assert_ok "--trust DIR: exit status 3 (was $rc)" test "$rc" = 3
assert_ok "--trust DIR: errno's reason and the option" grep -qE "pki: .*Is a directory.*\(--trust\)" "$SB_DIR/trust2.err"
sb__spawn daemon-trust "$SB_DIR/daemon-trust.err" "$SB_CERTVIGIL" daemon --config "$tcfg" \
	--state-dir "$SB_DIR/trust-state"
assert_ok "daemon: the trust error with its reason and origin" cv_wait_until 5000 \
	grep -qF "No such file or directory (trust: at $tcfg:$tline:10)" "$SB_DIR/daemon-trust.err"
stop_daemon daemon-trust

# --- 4. SIGHUP while a renewal command runs -----------------------------------------
# soon.example.test has 5 days left: renewal is due at the first audit. The
# hook holds until released, as a slow ACME order would, then fails.
cat >"$SB_DIR/hook.sh" <<EOF
#!/bin/bash
echo started >>"$SB_DIR/hook-runs"
while [ ! -e "$SB_DIR/release" ]; do sleep 0.02; done
echo finished >>"$SB_DIR/hook-runs"
exit 1
EOF
hcfg=$SB_DIR/renew.yaml
sb_write_config "$hcfg" <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    tls: { mode: provided }
    interval: 200ms
    jitter: 0s
    renew:
      enabled: true
      command: [bash, "$SB_DIR/hook.sh"]
      timeout: 20s
EOF
start=$(wc -l <"$log")
NOTIFY_SOCKET=$notify sb__spawn daemon-renew "$SB_DIR/daemon-renew.err" \
	"$SB_CERTVIGIL" daemon --config "$hcfg" --state-dir "$SB_DIR/renew-state"
assert_ok "renewal: the hook started" cv_wait_until 10000 grep -q started "$SB_DIR/hook-runs"
kill -HUP "$(sb_pid daemon-renew)"
assert_ok "SIGHUP: the config is reloaded" cv_wait_until 5000 grep -q "reloaded $hcfg" "$SB_DIR/daemon-renew.err"
touch "$SB_DIR/release"
assert_ok "SIGHUP: the hook in flight ran to its end" cv_wait_until 5000 grep -q finished "$SB_DIR/hook-runs"
assert_ok "SIGHUP: the hook's failure is recorded" cv_wait_until 5000 \
	jq -e '.renewal.platforms.soon.failures == 1 and (.renewal.platforms.soon.triggers | length) == 1' \
	"$SB_DIR/renew-state/state.json"
# Three audits after the release: the reloaded daemon judged the platform
# again (renewal due, held back by min_interval) without running the hook.
done_then=$(audits_after "$start")
assert_ok "SIGHUP: the reloaded daemon goes on auditing" cv_wait_until 10000 audits_reach "$start" $((done_then + 3))
assert_ok "SIGHUP: the hook ran once" test "$(grep -c started "$SB_DIR/hook-runs")" = 1
stop_daemon daemon-renew

cv_finish
