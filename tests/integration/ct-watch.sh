#!/bin/bash
#
# ct-watch.sh: the CT issuance watch against our HTTPS stand-in
# (tests/tools/https-standin) answering crt.sh-style JSON:
#   1. off by default: no request, no ct_log in the report
#   2. 4 Let's Encrypt certificates for *.ok.example.test in 7 days (one
#      listed twice, as crt.sh lists a precertificate and its certificate;
#      one more 10 days old): ct.rate-limit.near warning; a recent one from
#      another CA that nothing serves: ct.unexpected; the served one: not
#   3. 5 for *.soon.example.test: critical, and renewal (due: the served
#      certificate expires in 5 days) is held back; with 4 it would run
#      (--dry-run, the control)
#   4. a search that fails: noted, no finding
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STANDIN=$SB_BUILDDIR/tests/tools/https-standin
cv_require certtool
if [[ ! -x $STANDIN ]]; then
	cv_log "$STANDIN is not built"
	exit 1
fi
cv_up

d=$SB_DIR/ct
sb_standin_pki "$d" ct

ago() { date -u -d "@$(($(date -u +%s) - $1))" +%Y-%m-%dT%H:%M:%S; }
LE="C=US, O=Let's Encrypt, CN=R11"
entry() { # ISSUER NAMES SERIAL AGE_SECONDS
	printf '{"issuer_ca_id": 1, "issuer_name": "%s", "common_name": "x", "name_value": "%s", "id": 1, "serial_number": "%s", "not_before": "%s", "not_after": "2099-01-01T00:00:00"}' \
		"$1" "$2" "$3" "$(ago "$4")"
}
served=$(certtool -i --infile "$SB_DIR/pki/ok.pem" | awk '/Serial Number/ { print $NF; exit }')
{
	printf '[%s' "$(entry "$LE" '*.ok.example.test' 0a01 3600)"
	printf ',%s' "$(entry "$LE" '*.ok.example.test' 0a01 3600)" # the precertificate
	printf ',%s' "$(entry "$LE" '*.ok.example.test' 0A02 86400)"
	printf ',%s' "$(entry "$LE" '*.ok.example.test' 0a03 $((2 * 86400)))"
	printf ',%s' "$(entry "$LE" '*.OK.example.test\nok.example.test' 0a09 $((2 * 86400)))"
	printf ',%s' "$(entry "$LE" '*.ok.example.test' 0a04 $((3 * 86400)))"
	printf ',%s' "$(entry "$LE" '*.ok.example.test' 0a05 $((10 * 86400)))"
	printf ',%s' "$(entry "C=US, O=Other CA, CN=Other" '*.ok.example.test' 0b01 7200)"
	printf ',%s' "$(entry "C=US, O=Other CA, CN=Other" "*.ok.example.test" "$served" 7200)"
	printf ',%s]\n' "$(entry "C=US, O=Other CA, CN=Other" 'unrelated.example.test' 0c01 7200)"
} >"$d/ok.json"
soon() { # FILE COUNT
	local i
	{
		printf '['
		for ((i = 1; i <= $2; i++)); do
			((i > 1)) && printf ','
			entry "$LE" '*.soon.example.test' "0d0$i" $((i * 3600))
		done
		printf ']\n'
	} >"$1"
}
soon "$d/soon5.json" 5
soon "$d/soon4.json" 4
routes() { # SOON_FILE
	printf 'GET /ct?q=%%25.ok.example.test&output=json 200 %s\nGET /ct?q=%%25.soon.example.test&output=json 200 %s\n' \
		"$d/ok.json" "$1" >"$d/routes"
}
routes "$d/soon5.json"

port=$(sb__pick_port "$SB_TLS_PORT")
sb__spawn ct-standin "$d/standin.err" "$STANDIN" 127.0.0.1 "$port" "$d/server.pem" "$d/server-key.pem" \
	"$d/routes" "$d/requests.log"
if ! sb__wait_ready ct-standin 5000 "$d/standin.err" sb__listening ct-standin "$port" 127.0.0.1; then
	cv_fail "the CT stand-in starts"
	cv_finish
fi
requests() { if [[ -e $d/requests.log ]]; then grep -c '^===' "$d/requests.log" || true; else echo 0; fi; }
ct_findings() {
	jq -r '.platforms[] | .name as $p | .findings[] | select(.id | startswith("ct.") or startswith("renew.")) |
		"\($p) \(.id) \(.severity)"' "$CV_JSON" | sort
}

# --- 1. off by default ---------------------------------------------------------------
cv_config off <<EOF
  - name: off
    global: { baseDomain: ok.example.test }
EOF
cv_audit off
assert_eq "off: no request" 0 "$(requests)"
assert_jq "off: no ct_log" '.platforms[0].ct_log' 'null'

# --- 2. and 3. -------------------------------------------------------------------------
ct="ct: { url: \"https://127.0.0.1:$port/ct\", trust: $d/ca.pem }"
cv_config watch <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    $ct
  - name: soon
    global: { baseDomain: soon.example.test }
    $ct
    renew: { enabled: true, command: [/bin/true] }
EOF
state=$SB_DIR/state
mkdir -p "$state"
cv_audit watch --state-dir "$state" --dry-run
assert_eq "CT and renewal findings" "ok ct.rate-limit.near warning
ok ct.unexpected warning
soon ct.rate-limit.near critical
soon renew.suppressed info" "$(ct_findings)"
assert_messages ct.unexpected "issued .* by 'C=US, O=Other CA, CN=Other' for \\*\\.ok\\.example\\.test \\(serial 0B01\\) that no endpoint serves and that tls\\.mode letsencrypt does not expect"
assert_true "ok: 4 for the same names, limit 5" \
	'.platforms[] | select(.name == "ok") | .findings[] | select(.id == "ct.rate-limit.near") | .message | test("^4 certificates for exactly \\{\\*\\.ok\\.example\\.test\\} in the last 7 days")'
assert_true "soon: the renewal is held back for the CT limit" \
	'.platforms[] | select(.name == "soon") | .findings[] | select(.id == "renew.suppressed") | .message | test("duplicate certificate limit reached")'
assert_true "the report: entries read, recent, the most for one set of names" \
	'[.platforms[] | .ct_log | [.certificates, .recent, .same_names_max, .error]] == [[9, 7, 4, null], [5, 5, 5, null]]'

# The control: with 4, renewal would run.
routes "$d/soon4.json"
cv_audit control --state-dir "$state" --dry-run
assert_true "control: soon triggers (dry run)" \
	'[.platforms[] | select(.name == "soon") | .findings[] | .id] | (index("renew.triggered") != null) and (index("renew.suppressed") == null)'

# --- 4. a failing search --------------------------------------------------------------
cv_config broken <<EOF
  - name: broken
    global: { baseDomain: ok.example.test }
    ct: { url: "https://127.0.0.1:$port/nothing", trust: $d/ca.pem }
EOF
cv_audit broken
assert_true "broken: the 404 is noted" '.platforms[0].ct_log.error | test("answered HTTP 404")'
assert_eq "broken: no CT finding" "" "$(ct_findings)"

sb_stop
cv_finish
