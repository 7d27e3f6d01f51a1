#!/bin/bash
#
# renew-ari.sh: ACME Renewal Information (RFC 9773) against
# tests/tools/https-standin serving an ACME directory (with renewalInfo) and
# the window for the sandbox's ok.example.test certificate, whose
# identifier the test computes itself (base64url of the AKI key id and of
# the serial), so a wrongly built URL gets 404.
#   1. window in the future: no finding; the window and the next poll
#      (Retry-After: 3600) are remembered in --state-dir
#   2. again at once: Retry-After honoured, no request sent, no finding
#   3. the window moved earlier (next poll forced): tls.ari.renew-now warning
#      naming both starts
#   4. window started: warning; 5. window ended: critical (fresh state)
#   6. malformed JSON: no finding, a note on stderr, exit 0
#   7. with renew.enabled and the default renew.on, tls.ari.renew-now
#      triggers the command method

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STANDIN=$SB_BUILDDIR/tests/tools/https-standin
cv_require certtool base64 xxd
if [[ ! -x $STANDIN ]]; then
	cv_log "$STANDIN is not built"
	exit 1
fi
cv_up

d=$SB_DIR/ari
mkdir -p "$d"
cat >"$d/ca.tmpl" <<EOF
cn = "stand-in ACME CA"
ca
cert_signing_key
expiration_days = 30
EOF
cat >"$d/server.tmpl" <<EOF
cn = "acme"
ip_address = "127.0.0.1"
tls_www_server
signing_key
expiration_days = 30
EOF
certtool --generate-privkey --key-type ecdsa --outfile "$d/ca-key.pem" 2>/dev/null
certtool --generate-self-signed --no-text --load-privkey "$d/ca-key.pem" --template "$d/ca.tmpl" \
	--outfile "$d/ca.pem" 2>/dev/null
certtool --generate-privkey --key-type ecdsa --outfile "$d/server-key.pem" 2>/dev/null
certtool --generate-certificate --no-text --load-privkey "$d/server-key.pem" --load-ca-certificate "$d/ca.pem" \
	--load-ca-privkey "$d/ca-key.pem" --template "$d/server.tmpl" --outfile "$d/server.pem" 2>/dev/null

b64url() { xxd -r -p | base64 -w0 | tr '+/' '-_' | tr -d '='; }
info=$(certtool -i --infile "$SB_DIR/pki/ok.pem")
aki=$(awk '/Authority Key Identifier/ { getline; gsub(/[ \t]/, ""); print; exit }' <<<"$info")
# The ARI id holds the DER bytes of the serial; messages print it as openssl does.
cert_id=$(b64url <<<"$aki").$(b64url <<<"$(sb_cert_serial_der "$SB_DIR/pki/ok.pem")")
serial=$(sb_cert_serial "$SB_DIR/pki/ok.pem")

port=$(sb__pick_port "$SB_TLS_PORT")
printf '{"newNonce": "https://127.0.0.1:%s/nonce", "renewalInfo": "https://127.0.0.1:%s/ari/"}\n' "$port" "$port" \
	>"$d/directory.json"
iso() { date -u -d "@$(($(date -u +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
window() { # FILE START_OFFSET END_OFFSET
	printf '{"suggestedWindow": {"start": "%s", "end": "%s"}, "explanationURL": "https://ca.example/why"}\n' \
		"$(iso "$2")" "$(iso "$3")" >"$1"
}
routes() { # WINDOW_FILE [RETRY_AFTER]
	printf 'GET /dir 200 %s\nGET /ari/%s 200 %s %s\n' "$d/directory.json" "$cert_id" "$1" "${2:-}" >"$d/routes"
}
window "$d/future.json" $((10 * 86400)) $((12 * 86400))
window "$d/earlier.json" $((5 * 86400)) $((6 * 86400))
window "$d/started.json" -3600 86400
window "$d/ended.json" $((-2 * 86400)) -86400
printf '{"suggestedWindow": {"start": "soon"' >"$d/malformed.json"
routes "$d/future.json" 3600

sb__spawn acme-standin "$d/standin.err" "$STANDIN" 127.0.0.1 "$port" "$d/server.pem" "$d/server-key.pem" \
	"$d/routes" "$d/requests.log"
if ! sb__wait_ready acme-standin 5000 "$d/standin.err" sb__listening acme-standin "$port" 127.0.0.1; then
	cv_fail "the ACME stand-in starts"
	cv_finish
fi

config() { # [renew]
	cv_config ari <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    acme_directory: https://127.0.0.1:$port/dir
    acme_trust: $d/ca.pem
$(if [[ ${1:-} == renew ]]; then printf '    renew: { enabled: true, command: [/bin/true], verify_every: 1s, verify_timeout: 2s }\n'; fi)
EOF
}
requests() { grep -c '^===' "$d/requests.log" 2>/dev/null || true; }
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
config
state=$SB_DIR/state
mkdir -p "$state"

# --- 1. future window -------------------------------------------------------------------

cv_audit future --state-dir "$state"
assert_exit 0
assert_findings ""
assert_eq "future: directory, then renewalInfo for the certificate" "=== GET /dir
=== GET /ari/$cert_id" "$(grep '^===' "$d/requests.log")"
now=$(date -u +%s)
assert_true "future: the window and a next poll about 1h away are remembered" \
	".renewal.platforms.ok.ari | .cert_id == \"$cert_id\" and (.next_poll - $now | . > 3500 and . <= 3600)" \
	"$state/state.json"
assert_true "future: the report carries the window 10 to 12 days ahead, polled now" \
	".platforms[0].renewal.ari | .cert_id == \"$cert_id\" and .remembered == false and .error == null
	 and .explanation == \"https://ca.example/why\"
	 and ((.window_start | fromdateiso8601) - $now | . > 863000 and . < 865000)
	 and ((.window_end | fromdateiso8601) - $now | . > 1036000 and . < 1038000)"

# --- 2. Retry-After honoured ------------------------------------------------------------

cv_audit again --state-dir "$state"
assert_exit 0
assert_findings ""
assert_eq "again: no request before Retry-After" "2" "$(requests)"
assert_true "again: the report says the window is the remembered one" \
	'.platforms[0].renewal.ari | .remembered == true and .window_start != null and .error == null'

# --- 3. the window moved earlier ---------------------------------------------------------

routes "$d/earlier.json"
jq '.renewal.platforms.ok.ari.next_poll = 0' "$state/state.json" >"$state/state.json.new"
mv "$state/state.json.new" "$state/state.json"
cv_audit earlier --state-dir "$state"
assert_exit 1
assert_findings "$(cv_expect ok tls.ari.renew-now warning - -)"
assert_messages tls.ari.renew-now "^the CA moved the renewal window for serial $serial earlier, from $ts to $ts \\(until $ts\\): a sign of revocation; renew now; the CA explains: https://ca.example/why\$"
assert_true "earlier: no Retry-After: next poll in 6h" ".renewal.platforms.ok.ari.next_poll - $now | . > 21000 and . < 22000" \
	"$state/state.json"

# --- 4./5. started, ended -------------------------------------------------------------------

routes "$d/started.json"
mkdir -p "$SB_DIR/state-started"
cv_audit started --state-dir "$SB_DIR/state-started"
assert_exit 1
assert_findings "$(cv_expect ok tls.ari.renew-now warning - -)"
assert_messages tls.ari.renew-now "^the CA's renewal window for serial $serial started at $ts \\(until $ts\\); the CA explains: https://ca.example/why\$"

routes "$d/ended.json"
cv_audit ended
assert_exit 2
assert_findings "$(cv_expect ok tls.ari.renew-now critical - -)"
assert_messages tls.ari.renew-now "^the CA's renewal window for serial $serial \\($ts to $ts\\) has ended: renew now; the CA explains: https://ca.example/why\$"

# --- 6. malformed ---------------------------------------------------------------------------

routes "$d/malformed.json"
cv_audit malformed
assert_exit 0
assert_findings ""
assert_true "malformed: the report says why there is no window" \
	'.platforms[0].renewal.ari | .window_start == null and (.error | test("not JSON"))'
assert_match "malformed: a note on stderr" "^certvigil: platform 'ok': ARI: the renewalInfo response is not JSON" \
	"$(cat "$CV_STDERR")"

# --- 7. ARI makes renewal due -----------------------------------------------------------------

routes "$d/started.json"
config renew
mkdir -p "$SB_DIR/state-renew"
cv_audit renew --state-dir "$SB_DIR/state-renew"
assert_findings "$(cv_expect ok renew.failed critical - -)
$(cv_expect ok renew.triggered info - -)
$(cv_expect ok tls.ari.renew-now warning - -)"
assert_messages renew.triggered "^renewal triggered by command because of tls.ari.renew-now: command exited with status 0\$"

cv_finish
