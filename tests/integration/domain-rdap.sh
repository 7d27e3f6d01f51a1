#!/bin/bash
#
# domain-rdap.sh: the registrable domain's expiry by RDAP, against our
# HTTPS stand-in (tests/tools/https-standin) on loopback:
#   1. off by default: no request, no "domain" in the report
#   2. rdap.url, expiration in 20 days: domain.expiry.warning; with
#      domain_warn_days: 10, nothing (the control)
#   3. rdap.bootstrap naming the stand-in for .test, expiration in 3 days:
#      domain.expiry.critical
#   4. with --state-dir, the next run asks nothing and judges the date kept
#   5. an RDAP server answering 404: noted, no finding
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

d=$SB_DIR/rdap
sb_standin_pki "$d" rdap

port=$(sb__pick_port "$SB_TLS_PORT")
iso() { date -u -d "@$(($(date -u +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
domain() { # FILE OFFSET
	printf '{"objectClassName": "domain", "ldhName": "example.test", "events": [{"eventAction": "registration", "eventDate": "2001-01-01T00:00:00Z"}, {"eventAction": "expiration", "eventDate": "%s"}]}\n' \
		"$(iso "$2")" >"$1"
}
domain "$d/soon.json" $((20 * 86400))
domain "$d/close.json" $((3 * 86400))
printf 'GET /rdap/domain/example.test 200 %s\nGET /boot/domain/example.test 200 %s\n' "$d/soon.json" "$d/close.json" \
	>"$d/routes"
printf '{"version": "1.0", "services": [[["com", "net"], ["https://rdap.invalid/com/"]], [["test"], ["http://127.0.0.1:%s/plain/", "https://127.0.0.1:%s/boot/"]]]}\n' \
	"$port" "$port" >"$d/bootstrap.json"

sb__spawn rdap-standin "$d/standin.err" "$STANDIN" 127.0.0.1 "$port" "$d/server.pem" "$d/server-key.pem" \
	"$d/routes" "$d/requests.log"
if ! sb__wait_ready rdap-standin 5000 "$d/standin.err" sb__listening rdap-standin "$port" 127.0.0.1; then
	cv_fail "the RDAP stand-in starts"
	cv_finish
fi
requests() { if [[ -e $d/requests.log ]]; then grep -c '^===' "$d/requests.log" || true; else echo 0; fi; }
domain_findings() {
	jq -r '.platforms[] | .name as $p | .findings[] | select(.id | startswith("domain.")) | "\($p) \(.id) \(.severity)"' \
		"$CV_JSON" | sort
}

# --- 1. off by default ---------------------------------------------------------------
cv_config off <<EOF
  - name: off
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
EOF
cv_audit off
assert_exit 0
assert_eq "off: no RDAP request" 0 "$(requests)"
assert_jq "off: no domain object" '.platforms[0].domain' 'null'

# --- 2. and 3. -------------------------------------------------------------------------
cv_config rdap <<EOF
  - name: url
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    rdap: { enabled: true, url: "https://127.0.0.1:$port/rdap/", trust: $d/ca.pem }
  - name: quiet
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    rdap: { enabled: true, url: "https://127.0.0.1:$port/rdap", trust: $d/ca.pem }
    domain_warn_days: 10
  - name: boot
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    rdap: { enabled: true, bootstrap: $d/bootstrap.json, trust: $d/ca.pem }
EOF
state=$SB_DIR/state
mkdir -p "$state"
cv_audit rdap --state-dir "$state"
assert_exit 2
assert_eq "domain findings" "boot domain.expiry.critical critical
url domain.expiry.warning warning" "$(domain_findings)"
assert_eq "one request per platform, the bootstrap's https URL" "=== GET /boot/domain/example.test
=== GET /rdap/domain/example.test
=== GET /rdap/domain/example.test" "$(grep '^===' "$d/requests.log" | sort)"
assert_messages domain.expiry.warning '^the registration of example\.test expires .* \(in 19\.[0-9]|20\.0 days'
assert_messages domain.expiry.critical '^the registration of example\.test expires .* \(in [23]\.[0-9] days'
assert_true "the report: registrable domain, URL, expiry, asked now" \
	'.platforms[] | select(.name == "url") | .domain | .registrable_domain == "example.test" and (.rdap_url | endswith("/rdap/domain/example.test")) and (.expires | test("Z$")) and .remembered == false and .error == null'

# --- 4. kept for a day ---------------------------------------------------------------------
before=$(requests)
cv_audit again --state-dir "$state"
assert_exit 2
assert_eq "again: nothing asked" "$before" "$(requests)"
assert_eq "again: the same findings from the date kept" "boot domain.expiry.critical critical
url domain.expiry.warning warning" "$(domain_findings)"
assert_true "again: remembered" '[.platforms[].domain.remembered] | all'

# --- 5. 404 ----------------------------------------------------------------------------------
cv_config missing <<EOF
  - name: missing
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    rdap: { enabled: true, url: "https://127.0.0.1:$port/none/", trust: $d/ca.pem }
EOF
cv_audit missing
assert_exit 0
assert_true "missing: the 404 is noted in the report" '.platforms[0].domain.error | test("answered HTTP 404")'
assert_match "missing: and on stderr" "RDAP: .*answered HTTP 404" "$(cat "$CV_STDERR")"

sb_stop
cv_finish
