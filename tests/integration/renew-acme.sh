#!/bin/bash
#
# renew-acme.sh: renewal end to end with real parts.  Pebble (Let's
# Encrypt's test CA) validates DNS-01 against a knotd that takes RFC 2136
# updates under a TSIG key; lego (--dns rfc2136) issues the platform's
# wildcard *.gw.acme.test; an nginx with a master process serves it.
#   1. certvigil audit: the pebble certificate counts as near expiry (pebble
#      issues 5-year certificates, so critical_days is 100% of the lifetime:
#      faketime cannot be used, sd-event's timers never fire under it) ->
#      tls.expiry.critical -> the command method runs the hook, which runs
#      `lego renew` against pebble, installs the certificate and reloads
#      nginx -> re-audits until the new serial is served: renew.succeeded
#      with the old and new serial; the report shows the new certificate
#   2. a failing hook (lego with a wrong TSIG secret: the DNS update is
#      refused): renew.failed quoting lego; at once renew.suppressed
#      (backoff); after the backoff it fails again; then the weekly cap
#      (max_per_week 3) holds, named with its end, across oneshot runs
#   3. the daemon (interval 1s) renews through lego the same way, once, and
#      holds back afterwards (min_interval)

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox certtool pebble lego curl
if ! sb_acme_knot_start || ! sb_pebble_start; then
	cv_fail "knotd with TSIG updates and pebble start"
	cv_finish
fi

a=$SB_DIR/acme
wildcard="*.gw.$SB_ACME_ZONE"
crt=$a/lego/certificates/_.gw.$SB_ACME_ZONE.crt
key=$a/lego/certificates/_.gw.$SB_ACME_ZONE.key
serial_of() { sb_cert_serial "$1"; }

cv_run issue sb_lego -d "$wildcard" run
if [[ $CV_RC != 0 || ! -s $crt ]]; then
	cv_fail "lego issues $wildcard from pebble over DNS-01"
	sed 's/^/    /' "$CV_STDERR" | tail -n 20
	cv_finish
fi
cv_pass "lego issues $wildcard from pebble over DNS-01 (${CV_MS} ms)"
cp "$crt" "$a/served.crt"
cp "$key" "$a/served.key"
old_serial=$(serial_of "$a/served.crt")

port=$(sb__pick_port "$SB_TLS_PORT")
if ! sb_reload_nginx_start nginx-gw "$port" "$wildcard" "$a/served.crt" "$a/served.key"; then
	cv_fail "nginx serving the pebble certificate starts"
	cv_finish
fi

# The hook: what an operator would write around lego.  Its environment and
# arguments for lego are baked in; the wildcard comes from certvigil.
mapfile -t lego_env < <(sb_lego_env)
mapfile -t lego_argv < <(sb_lego_argv)
{
	printf '#!/bin/bash\nset -eu\n'
	printf 'export'
	printf ' %q' "${lego_env[@]}"
	printf '\n'
	# Failing: a wrong TSIG secret, and a new ACME account, so that pebble
	# has no valid authorization to hand back (it sometimes does, despite
	# PEBBLE_AUTHZREUSE=0, and then no DNS update is needed at all).
	# (lego renews only for a registered account: the new one runs a new
	# order, which fails at the DNS update just as a renewal would.)
	printf 'extra=() cmd=(renew --days 3650 --no-random-sleep)\n'
	printf 'if [[ $(cat %q) == fail ]]; then export RFC2136_TSIG_SECRET=%q; extra=(--email "fail-$RANDOM$RANDOM@example.test"); cmd=(run); fi\n' \
		"$a/hook-mode" "$(head -c 32 /dev/urandom | base64)"
	printf '%q ' "${lego_argv[@]}"
	printf -- '"${extra[@]}" -d "$CERTVIGIL_WILDCARD" "${cmd[@]}"\n'
	printf 'cp %q %q\ncp %q %q\n' "$crt" "$a/served.crt" "$key" "$a/served.key"
	printf 'kill -HUP %s\n' "$(sb_pid nginx-gw)"
	printf 'echo "installed the new certificate for $CERTVIGIL_WILDCARD, nginx reloads"\n'
} >"$a/hook.sh"
echo ok >"$a/hook-mode"

mkdir -p "$SB_DIR/state"
CV_CFG=$SB_DIR/gw.yaml
cat >"$CV_CFG" <<EOF
platforms:
  - name: gw
    global: { baseDomain: gw.$SB_ACME_ZONE }
    tls: { mode: letsencrypt, letsencrypt: { dns01: { provider: rfc2136, dnsZone: $SB_ACME_ZONE } } }
    port: $port
    resolvers: ["127.0.0.1:$SB_ACME_DNS_PORT"]
    trust: $a/pebble-root.pem
    timeout: 2s
    dns_port: $SB_ACME_DNS_PORT
    # Pebble's certificates live 5 years: a threshold of the whole lifetime
    # makes one "near expiry".
    warn_days: 100%
    critical_days: 100%
    renew:
      enabled: true
      command: [bash, "$a/hook.sh"]
      timeout: 60s
      min_interval: 1s
      max_per_week: 3
      verify_every: 1s
      verify_timeout: 30s
EOF
# One problem: the expiring certificate, whatever the names (issue 12).
critical="gw tls.expiry.critical critical api.gw.$SB_ACME_ZONE 127.0.0.1"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# --- 1. renewal through lego, proven by the served serial ----------------------------------

# With a threshold of the whole lifetime, the certificate is critical from
# its second second on: pebble's notBefore is the issuance time.
nb=$(date -u -d "$(certtool -i --infile "$a/served.crt" | awk '/Not Before:/ { sub(/.*Not Before: /, ""); print; exit }')" +%s)
cv_wait_clock $((nb + 1))
cv_audit renew --state-dir "$SB_DIR/state"
new_serial=$(serial_of "$a/served.crt")
assert_exit 2
assert_findings "$critical
$(cv_expect gw renew.succeeded info - -)
$(cv_expect gw renew.triggered info - -)"
assert_match "renew: lego issued a new certificate" "^[0-9A-F]+\$" "$new_serial"
assert_no_match "renew: the new serial differs from the old one" "^$old_serial\$" "$new_serial"
assert_messages renew.triggered \
	"^renewal triggered by command because of tls.expiry.critical: command exited with status 0\$"
assert_messages renew.succeeded \
	"^new certificate served on every address: serial $new_serial \\(notAfter $ts\\) replaces $old_serial \\(notAfter $ts\\)\$"
assert_jq "renew: the report shows the new certificate on every name" \
	'[.platforms[].endpoints[].certificate.serial] | unique' "[\"$new_serial\"]"
assert_match "renew: the hook's last line reached stderr" \
	"renew.command stdout: installed the new certificate for \\*\\.gw\\.acme\\.test, nginx reloads" \
	"$(cat "$CV_STDERR")"
t0=$(jq '.renewal.platforms.gw.triggers[0]' "$SB_DIR/state/state.json")

# --- 2. a failing hook, backoff, weekly cap -------------------------------------------------

echo fail >"$a/hook-mode"
cv_wait_clock "$t0"
cv_audit fail1 --state-dir "$SB_DIR/state"
assert_exit 2
assert_findings "$critical
$(cv_expect gw renew.failed critical - -)
$(cv_expect gw renew.triggered info - -)"
assert_messages renew.failed \
	"^renewal by command \\(because of tls.expiry.critical\\) failed: command exited with status 1; last output: .*rfc2136: failed to insert: DNS update failed"
t1=$(jq '.renewal.platforms.gw.triggers[1]' "$SB_DIR/state/state.json")

cv_audit backoff --state-dir "$SB_DIR/state"
assert_findings "$critical
$(cv_expect gw renew.suppressed info - -)"
assert_messages renew.suppressed \
	"^renewal due because of tls.expiry.critical held back: backing off after failed renewals \\(next attempt $(at $((t1 + 2))))\$"

cv_wait_clock $((t1 + 1))
cv_audit fail2 --state-dir "$SB_DIR/state"
assert_findings "$critical
$(cv_expect gw renew.failed critical - -)
$(cv_expect gw renew.triggered info - -)"

cv_audit cap --state-dir "$SB_DIR/state"
assert_findings "$critical
$(cv_expect gw renew.suppressed info - -)"
assert_messages renew.suppressed \
	"^renewal due because of tls.expiry.critical held back: renew.max_per_week triggers in the last 7 days \\(next attempt $(at $((t0 + 604800))))\$"
assert_eq "cap: the certificate served is still the renewed one" "[\"$new_serial\"]" \
	"$(jq -c '[.platforms[].endpoints[].certificate.serial] | unique' "$CV_JSON")"

# --- 3. the same renewal from the daemon --------------------------------------------------------
# A fresh state, min_interval long enough that the renewed (again "near
# expiry") certificate is not renewed twice, audits every second.
echo ok >"$a/hook-mode"
before=$(serial_of "$a/served.crt")
sed -e 's/^      min_interval: 1s$/      min_interval: 1h/' -e 's/^    port: /    interval: 1s\n    jitter: 0s\n    port: /' \
	"$CV_CFG" >"$SB_DIR/gw-daemon.yaml"
cv_notify_start
NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/daemon.out" \
	"$SB_CERTVIGIL" daemon --config "$SB_DIR/gw-daemon.yaml" --state-dir "$SB_DIR/state3"
daemon_pid=$(sb_pid daemon)
renewed_once() {
	[[ -s $SB_DIR/state3/state.json ]] &&
		[[ $(jq -r '.renewal.platforms.gw | ((.triggers // []) | length) == 1 and .failures == 0 and
			(has("verifying") | not)' "$SB_DIR/state3/state.json" 2>/dev/null) == true ]]
}
renewed=false
cv_wait_until 40000 renewed_once && renewed=true
assert_eq "daemon: one renewal through lego, proven" true "$renewed"
after=$(serial_of "$a/served.crt")
assert_no_match "daemon: lego issued another certificate" "^$before\$" "$after"
# The renewed certificate is "near expiry" again: three more audits find it
# so and hold back (min_interval).
assert_ok "daemon: three more audits after the renewal" cv_wait_more_audits 3 10000
assert_eq "daemon: later audits hold back (min_interval), no second trigger" 1 \
	"$(jq '.renewal.platforms.gw.triggers | length' "$SB_DIR/state3/state.json")"
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
unset 'SB_PIDS[daemon]'
assert_eq "daemon: SIGTERM exits 0" 0 "$rc"
[[ $renewed == true ]] || sed 's/^/    /' "$SB_DIR/daemon.out" | tail -n 20

cv_finish
