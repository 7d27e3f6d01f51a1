#!/bin/bash
#
# audit-healthy.sh: platforms with nothing wrong produce no finding, status
# ok and exit 0, and the JSON report carries the documented fields
# (certvigil(8), JSON REPORT) with the values of the sandbox's certificates.
#   1. ok.example.test (127.0.0.1 and 127.0.0.2), tls.mode provided
#   2. the "-" separator: gw.dash.example.test with mcp enabled
#   3. --values FILE (a chart values file full of unrelated keys) with
#      --resolver, --port, --dns-port and --trust on the command line, report
#      on stdout; without --dns-port the zone's server is asked on port 53,
#      where nothing answers
#   4. --base-domain (and --mode) instead of any file: the same platform

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

# Field values of a sandbox certificate, as certtool sees them.
cert_field() {
	certtool -i --infile "$SB_DIR/pki/$1.pem" 2>/dev/null | sed -n "s/^[[:space:]]*$2: //p" | awk 'NR <= 1'
}
rfc3339() {
	date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ
}

# --- 1. ok.example.test --------------------------------------------------------

cv_config ok <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided, wildcardSecretName: ok-wildcard-tls }
EOF
cv_audit ok
assert_exit 0
assert_findings ""
assert_summary ok 0 0 0
assert_file_empty "nothing on stdout with -o" "$CV_STDOUT"
assert_file_empty "nothing on stderr" "$CV_STDERR"

version=$("$SB_CERTVIGIL" --version)
assert_jq "format, version and kind" '[.format, .version, .platforms[0].kind]' "[4,\"${version#certvigil }\",\"platform\"]"
assert_true "started is RFC 3339 UTC" \
	'.started | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")'
now=$(date -u +%s)
assert_true "started is within a minute of now" \
	"(.started | fromdateiso8601) as \$t | (\$t - $now | fabs) < 60"
assert_true "duration_ms is a number >= 0" '(.duration_ms | type) == "number" and .duration_ms >= 0'
assert_jq "one platform" '.platforms | length' 1
assert_jq "platform fields" \
	'.platforms[0] | [.name, .base_domain, .separator, .tls_mode, .wildcard, .challenge_name]' \
	'["ok","ok.example.test",".","provided","*.ok.example.test","_acme-challenge.ok.example.test"]'
assert_jq "names: service, name, status" '[.platforms[0].names[] | [.service, .name, .status]]' \
	'[["api","api.ok.example.test","ok"],["console","console.ok.example.test","ok"],["grafana","grafana.ok.example.test","ok"],["auth","auth.ok.example.test","ok"]]'
assert_jq "every name resolves to 127.0.0.1 and 127.0.0.2" \
	'[.platforms[0].names[] | .addresses | sort] | unique' '[["127.0.0.1","127.0.0.2"]]'
assert_jq "8 endpoints: every name on both addresses" \
	'[.platforms[0].endpoints[] | "\(.name) \(.address)"] | sort | join(",")' \
	"\"$(for n in api console grafana auth; do for a in 1 2; do printf '%s %s\n' "$n.ok.example.test" "127.0.0.$a"; done; done | sort | paste -sd,)\""
assert_jq "every endpoint: port, status ok, TLS 1.2 or 1.3" \
	"[.platforms[0].endpoints[] | [.port == $SB_TLS_PORT, .status, (.tls_version | test(\"^TLS1\\\\.[23]\$\"))]] | unique" \
	'[[true,"ok",true]]'

sha=$(certtool -i --infile "$SB_DIR/pki/ok.pem" --outder 2>/dev/null | sha256sum | cut -d' ' -f1)
serial=$(sb_cert_serial "$SB_DIR/pki/ok.pem")
# The serial prints as `openssl x509 -serial` does (upper-case hex, no DER
# sign padding); where openssl is installed it is the reference.
if command -v openssl >/dev/null; then
	assert_eq "the expected serial is openssl's" "serial=$serial" "$(openssl x509 -in "$SB_DIR/pki/ok.pem" -noout -serial)"
fi
assert_match "the serial is upper-case hex without a leading 00 byte" '^([1-9A-F][0-9A-F]|0[0-9A-F])([0-9A-F]{2})*$' "$serial"
nb=$(rfc3339 "$(cert_field ok 'Not Before')")
na=$(rfc3339 "$(cert_field ok 'Not After')")
assert_jq "every endpoint serves the ok certificate (subject, issuer, serial, dates, sha256, san, verified)" \
	'[.platforms[0].endpoints[].certificate | [.subject, .issuer, .serial, .not_before, .not_after, .sha256, .san, .verified]] | unique' \
	"[[\"CN=certvigil sandbox ok,O=certvigil test\",\"CN=certvigil sandbox intermediate,O=certvigil test\",\"$serial\",\"$nb\",\"$na\",\"$sha\",[\"*.ok.example.test\"],true]]"
assert_true "sha256 is 64 lowercase hex digits" \
	'[.platforms[0].endpoints[].certificate.sha256 | test("^[0-9a-f]{64}$")] | all'
assert_true "days_left is about 80 (a number between 79.5 and 80)" \
	'[.platforms[0].endpoints[].certificate.days_left | type == "number" and . >= 79.5 and . <= 80] | all'
assert_jq "key describes the ECDSA key" \
	'[.platforms[0].endpoints[].certificate.key | test("^ECDSA")] | unique' '[true]'
assert_jq "no findings in the platform" '.platforms[0].findings' '[]'

# --- 2. "-" separator, mcp enabled -------------------------------------------

cv_config dash <<EOF
  - name: dash
    global: { baseDomain: gw.dash.example.test, subdomainSeparator: "-" }
    tls: { mode: provided }
    mcp: { enabled: true }
EOF
cv_audit dash
assert_exit 0
assert_findings ""
assert_summary ok 0 0 0
assert_jq "dash: separator, wildcard and challenge name" \
	'.platforms[0] | [.separator, .wildcard, .challenge_name]' \
	'["-","*.dash.example.test","_acme-challenge.dash.example.test"]'
assert_jq "dash: five names joined with '-', mcp included" \
	'[.platforms[0].names[] | [.service, .name, .status, .addresses]]' \
	'[["api","api-gw.dash.example.test","ok",["127.0.0.1"]],["console","console-gw.dash.example.test","ok",["127.0.0.1"]],["grafana","grafana-gw.dash.example.test","ok",["127.0.0.1"]],["auth","auth-gw.dash.example.test","ok",["127.0.0.1"]],["mcp","mcp-gw.dash.example.test","ok",["127.0.0.1"]]]'
assert_jq "dash: 5 verified endpoints with the dash certificate" \
	'[.platforms[0].endpoints[] | [.status, .certificate.subject, .certificate.san, .certificate.verified]] | [length, unique]' \
	'[5,[["ok","CN=certvigil sandbox dash,O=certvigil test",["*.dash.example.test"],true]]]'

# --- 3. --values with command-line overrides, report on stdout -----------------

cat >"$SB_DIR/values.yaml" <<EOF
# A chart's values file: most keys are none of certvigil's business.
replicaCount: 3
image:
  repository: registry.example.test/ai-gateway
  tag: "1.4.2"
  pullPolicy: IfNotPresent
global:
  baseDomain: ok.example.test
  imagePullSecrets: [regcred]
  storageClass: fast
tls:
  mode: provided
  wildcardSecretName: ai-gateway-wildcard-tls
  annotations: { team: platform }
mcp:
  enabled: false
  replicas: 2
postgresql:
  enabled: true
  auth: { username: gw, database: gw }
resources:
  limits: { cpu: "2", memory: 4Gi }
EOF
cv_run values-53 "$SB_CERTVIGIL" audit --values "$SB_DIR/values.yaml" \
	--resolver "127.0.0.1:$SB_DNS_PORT" --port "$SB_TLS_PORT" --trust "$SB_DIR/pki/root.pem" \
	--timeout 2s --format json
assert_jq "values without --dns-port: the zone's server, asked on port 53, does not answer" \
	'[.platforms[0].dns.names_zone.servers[] | .status == "ok"] | [length > 0, any]' '[true,false]' "$CV_STDOUT"
cv_run values "$SB_CERTVIGIL" audit --values "$SB_DIR/values.yaml" \
	--resolver "127.0.0.1:$SB_DNS_PORT" --port "$SB_TLS_PORT" --dns-port "$SB_DNS_PORT" \
	--trust "$SB_DIR/pki/root.pem" --timeout 2s --format json
assert_exit 0
assert_jq "values with --dns-port: the zone's server answers there, with its serial" \
	'[.platforms[0].dns.names_zone.servers[] | [.status, .authoritative, (.serial | type)]] | unique' \
	'[["ok",true,"number"]]' "$CV_STDOUT"
assert_file_empty "values: nothing on stderr" "$CV_STDERR"
if jq -e . "$CV_STDOUT" >/dev/null 2>&1; then
	cv_pass "values: stdout is one JSON document"
	assert_findings "" "$CV_STDOUT"
	assert_summary ok 0 0 0 "$CV_STDOUT"
	assert_jq "values: the platform is named after its base domain" \
		'.platforms[0] | [.name, .base_domain, .tls_mode, .wildcard]' \
		'["ok.example.test","ok.example.test","provided","*.ok.example.test"]' "$CV_STDOUT"
	assert_jq "values: 8 endpoints on the overridden port, all verified" \
		"[.platforms[0].endpoints[] | [.port == $SB_TLS_PORT, .status, .certificate.verified]] | [length, unique]" \
		'[8,[[true,"ok",true]]]' "$CV_STDOUT"
else
	cv_fail "values: stdout is one JSON document"
	cv__show stdout "$(head -c 2000 "$CV_STDOUT")"
fi

# --- 4. one platform from flags alone ------------------------------------------------
cv_run flags "$SB_CERTVIGIL" audit --base-domain ok.example.test --mode provided \
	--resolver "127.0.0.1:$SB_DNS_PORT" --port "$SB_TLS_PORT" --dns-port "$SB_DNS_PORT" \
	--trust "$SB_DIR/pki/root.pem" --timeout 2s --format json
assert_exit 0
assert_file_empty "flags: nothing on stderr" "$CV_STDERR"
assert_findings "" "$CV_STDOUT"
assert_jq "flags: the platform is named after its base domain, in the mode given" \
	'.platforms[0] | [.name, .base_domain, .separator, .tls_mode, .wildcard, ([.endpoints[] | .certificate.verified] | length)]' \
	'["ok.example.test","ok.example.test",".","provided","*.ok.example.test",8]' "$CV_STDOUT"
cv_run flags-dash "$SB_CERTVIGIL" plan --base-domain gw.dash.example.test --separator - --format json
assert_exit 0
assert_jq "flags: --separator - makes the dash names and the parent wildcard" \
	'.platforms[0] | [.separator, .wildcard, .tls_mode]' '["-","*.dash.example.test","letsencrypt"]' "$CV_STDOUT"

cv_finish
