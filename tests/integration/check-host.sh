#!/bin/bash
#
# check-host.sh: `certvigil check HOST[:PORT]` against the sandbox (knotd,
# nginx, a certtool PKI made here): one name's addresses judged with the
# single-name checks only (chain, SAN, expiry, consistency, issuer, legacy
# TLS, revocation), exit 0/1/2/3 as audit; --wildcard; AIA URLs fetched from
# public addresses only, even with --trust FILE; an address literal (no
# lookup, no SNI, an iPAddress SAN); a name that does not resolve; a
# malformed HOST (exit 3, nothing sent); and no state: the state directory
# is neither created, written nor read.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki
port=$SB_TLS_PORT

# only.example.test names its host alone; ip7 and ip6 carry an address.
sbt_cert only inter -10 80 <<-EOF
	cn = "certvigil sandbox only"
	tls_www_server
	signing_key
	dns_name = "api.only.example.test"
EOF
sbt_cert ip7 inter -10 80 <<-EOF
	cn = "certvigil sandbox ip7"
	tls_www_server
	signing_key
	ip_address = "127.0.0.7"
EOF
sbt_cert ip6 inter -10 80 <<-EOF
	cn = "certvigil sandbox ip6"
	tls_www_server
	signing_key
	ip_address = "::1"
EOF
# aia is served without its intermediate and names a URL on loopback for it.
sbt_cert aia inter -10 80 <<-EOF
	cn = "certvigil sandbox aia"
	tls_www_server
	signing_key
	dns_name = "api.aia.example.test"
	ca_issuers_uri = "http://127.0.0.1:$SBT_HTTP_PORT/inter.der"
EOF
certtool --certificate-info --infile "$p/inter.pem" --outder --outfile "$SB_DIR/www/inter.der" 2>/dev/null
sb_knot_set '*.only.example.test' A 127.0.0.1
sb_knot_set 'api.aia.example.test' A 127.0.0.1
# Two addresses, two valid certificates for the same name.
sb_knot_set 'two.ok.example.test' A 127.0.0.1
sb_knot_set 'two.ok.example.test' A 127.0.0.2
sbt_serve only 127.0.0.1 'api.only.example.test' "$p/only-chain.pem" "$p/only-key.pem"
sbt_serve two-a 127.0.0.1 'two.ok.example.test' "$p/ok-chain.pem" "$p/ok-key.pem"
sbt_serve two-b 127.0.0.2 'two.ok.example.test' "$p/ok2-chain.pem" "$p/ok2-key.pem"
# The only server on these addresses: what a client without SNI gets.
sbt_serve ip7 127.0.0.7 '_' "$p/ip7-chain.pem" "$p/ip7-key.pem"
sbt_serve ip6 '[::1]' '_' "$p/ip6-chain.pem" "$p/ip6-key.pem"
sbt_serve aia 127.0.0.1 'api.aia.example.test' "$p/aia.pem" "$p/aia-key.pem"
sbt_serve_http
sbt_nginx_restart
assert_ok "nginx serves 127.0.0.7" cv_wait_until 5000 sb__tcp_open 127.0.0.7 "$port"

# The state directory a run would use ($STATE_DIRECTORY): one that exists,
# with a state in it, and one that does not.
state=$SB_DIR/state
missing=$SB_DIR/no-state
mkdir -m 0700 "$state"
printf '{"format": 2, "platforms": {}}\n' >"$state/state.json"
touch -d '2020-01-01 00:00:00' "$state" "$state/state.json"
listing() { find "$1" -printf '%p %s %T@ %C@\n' | sort; }
before=$(listing "$state")
export STATE_DIRECTORY=$state

# check NAME HOST [ARG...]: the JSON report in $SB_DIR/NAME.json.
check() {
	local name=$1
	shift
	CV_JSON=$SB_DIR/$name.json
	rm -f "$CV_JSON"
	cv_run "$name" "$SB_CERTVIGIL" check "$@" --resolver "127.0.0.1:$SB_DNS_PORT" --trust "$p/root.pem" \
		--timeout 2s --format json -o "$CV_JSON"
}

# --- a good host: one name, both its addresses ---------------------------------
check good "api.ok.example.test:$port"
assert_exit 0
assert_findings ""
assert_jq "good: JSON format 4, one host platform named after the host" \
	'[.format, (.platforms | length), .platforms[0].kind, .platforms[0].name, .platforms[0].wildcard]' \
	'[4,1,"host","api.ok.example.test",null]'
assert_jq "good: one name with both its addresses" \
	'[.platforms[0].names[] | {service, name, status, addresses}]' \
	'[{"service":"host","name":"api.ok.example.test","status":"ok","addresses":["127.0.0.1","127.0.0.2"]}]'
assert_jq "good: each address probed on the port given, with the host as SNI" \
	'[.platforms[0].endpoints[] | [.address, .port, .status, (.certificate.san | index("*.ok.example.test") != null)]] | sort' \
	"[[\"127.0.0.1\",$port,\"ok\",true],[\"127.0.0.2\",$port,\"ok\",true]]"
assert_true "good: no DNS facts, no DNS-01 challenge" \
	'.platforms[0] | (has("dns") | not) and .challenge_name == null'
assert_true "good: the legacy TLS probe ran" \
	'[.platforms[0].endpoints[] | .legacy_tls.status] | index("refused") != null'

# Every format, and -o, through the audit's own pipeline.
cv_run good-text "$SB_CERTVIGIL" check "api.ok.example.test:$port" --resolver "127.0.0.1:$SB_DNS_PORT" \
	--trust "$p/root.pem" --no-color
assert_exit 0
assert_match "text: the verdict on the host" \
	$'\nHost api\\.ok\\.example\\.test: OK \\(0 critical, 0 warning, 0 info\\)\n  api\\.ok\\.example\\.test port '"$port"$'; certificate must cover it\n' \
	"$(cat "$CV_STDOUT")"
assert_match "text: the first lines say check and host, not audit and platform" \
	$'^certvigil [0-9.]+ check, [0-9T:-]+Z\nStatus: ok \\(0 critical, 0 warning, 0 info\\) in [0-9]+ ms; 0 of 1 host need attention\n' \
	"$(cat "$CV_STDOUT")"
assert_no_match "text: no DNS facts section" 'DNS facts|Wildcard|DNS-01' "$(cat "$CV_STDOUT")"
for f in junit prometheus github; do
	cv_run "good-$f" "$SB_CERTVIGIL" check "api.ok.example.test:$port" --resolver "127.0.0.1:$SB_DNS_PORT" \
		--trust "$p/root.pem" --format "$f" -o "$SB_DIR/good.$f"
	assert_exit 0
done
assert_ok "junit: a test suite for the host" grep -q '<testsuite name="api.ok.example.test"' "$SB_DIR/good.junit"
assert_ok "junit: the single-name checks' cases" grep -q 'classname="api.ok.example.test.tls.san"' "$SB_DIR/good.junit"
assert_eq "junit: no case for a check that did not run" "" \
	"$(grep -oE 'classname="api\.ok\.example\.test\.(dns\.wildcard|dns01|caa|dnssec|tls\.renewal)[^"]*"' "$SB_DIR/good.junit")"
assert_ok "prometheus: the certificate's expiry for each address" \
	grep -q "^certvigil_certificate_not_after_seconds{platform=\"api.ok.example.test\",name=\"api.ok.example.test\",address=\"127.0.0.2\"}" \
	"$SB_DIR/good.prometheus"
assert_ok "github: the status line" grep -q '^certvigil: ok (0 critical, 0 warning, 0 info)' "$SB_DIR/good.github"

# --- what a single name can get wrong --------------------------------------------
check san "api.wrong.example.test:$port"
assert_exit 2
assert_findings "api.wrong.example.test tls.san.mismatch critical api.wrong.example.test 127.0.0.1"
assert_messages tls.san.mismatch '^the certificate served by 127\.0\.0\.1 does not cover api\.wrong\.example\.test: its SAN dNSNames are \[\*\.other\.example\.test\]$'

check expired "api.expired.example.test:$port"
assert_exit 2
assert_findings "api.expired.example.test tls.expiry.expired critical api.expired.example.test 127.0.0.1"

# Five days left: critical; the renewal policy is the platform's, not a host's.
check soon "api.soon.example.test:$port"
assert_exit 2
assert_findings "api.soon.example.test tls.expiry.critical critical api.soon.example.test 127.0.0.1"

check warn "api.warn.example.test:$port" --fail-on critical
assert_exit 0
assert_findings "api.warn.example.test tls.expiry.warning warning api.warn.example.test 127.0.0.1"

check two "two.ok.example.test:$port"
assert_exit 1
assert_findings "two.ok.example.test tls.cert.inconsistent warning - -"
assert_messages tls.cert.inconsistent '^host two\.ok\.example\.test serves 2 different certificates: [0-9a-f]{64} .* served by 127\.0\.0\.1 for two\.ok\.example\.test; [0-9a-f]{64} .* served by 127\.0\.0\.2 for two\.ok\.example\.test; '


check untrusted "api.self.example.test:$port"
assert_exit 2
assert_true "untrusted: the chain does not verify" \
	'[.platforms[0].findings[].id] | any(startswith("tls.chain."))'

# --- --wildcard --------------------------------------------------------------
check wild-ok "api.ok.example.test:$port" --wildcard '*.ok.example.test'
assert_exit 0
assert_findings ""
assert_jq "wild-ok: the plan's wildcard" '.platforms[0].wildcard' '"*.ok.example.test"'
check only "api.only.example.test:$port"
assert_exit 0
assert_findings ""
check wild-only "api.only.example.test:$port" --wildcard '*.only.example.test'
assert_exit 1
assert_findings "api.only.example.test tls.wildcard.shape warning api.only.example.test 127.0.0.1"
assert_messages tls.wildcard.shape 'covers it but is not \*\.only\.example\.test \(--wildcard\)'

# --- AIA and CRL URLs: public addresses only --------------------------------------
# check probes hosts the operator names, whose certificates choose the URLs:
# a private --trust bundle does not open internal addresses to them, as it
# does for a platform's own PKI.
access=$SB_DIR/www-access.log
requests() { grep -c "GET /inter.der " "$access" 2>/dev/null || true; }
n0=$(requests)
check aia "api.aia.example.test:$port"
assert_exit 2
assert_messages tls.chain.incomplete \
	"AIA caIssuers URL http://127\\.0\\.0\\.1:$SBT_HTTP_PORT/inter\\.der.*refused to connect to 127\\.0\\.0\\.1, a loopback address"
assert_eq "aia: no request reached the server" "$n0" "$(requests)"
# The control: audit with the same trust bundle fetches it.
sb_write_config "$SB_DIR/aia.yaml" <<EOF
  - name: aia
    global: { baseDomain: aia.example.test }
    tls: { mode: provided }
EOF
cv_run aia-audit "$SB_CERTVIGIL" audit --config "$SB_DIR/aia.yaml" --trust "$p/root.pem"
assert_ok "control: audit with the same --trust fetches the AIA URL" test "$(requests)" -gt "$n0"

# --- a name that does not resolve ----------------------------------------------
check nx "nx.example.test:$port"
assert_exit 2
assert_findings "nx.example.test dns.resolve.failed critical nx.example.test -"
assert_jq "nx: no endpoint" '.platforms[0].endpoints | length' 0

# --- address literals: no lookup, no SNI ----------------------------------------
if ! cv_listener_start; then
	cv_fail "the silent listener did not start"
	cv_finish
fi
quiet=("--resolver" "127.0.0.1:$CV_LISTEN_PORT")
check ip7 "127.0.0.7:$port" "${quiet[@]}"
assert_exit 0
assert_findings ""
assert_jq "ip7: the address is its own answer" \
	'.platforms[0] | [.names[0].name, .names[0].addresses, .endpoints[0].address, .endpoints[0].status]' \
	'["127.0.0.7",["127.0.0.7"],"127.0.0.7","ok"]'
check ip6 "[::1]:$port" "${quiet[@]}"
assert_exit 0
assert_findings ""
assert_jq "ip6: [::1] probed" '.platforms[0].endpoints[0] | [.address, .status]' '["::1","ok"]'
# Without SNI nginx answers with its default certificate, which names no
# address: not covered.
check ip1 "127.0.0.1:$port" "${quiet[@]}"
assert_exit 2
assert_true "ip1: the default certificate does not cover the address" \
	'[.platforms[0].findings[] | select(.id == "tls.san.mismatch") | .message |
		test("does not cover the address 127\\.0\\.0\\.1: its SAN iPAddresses are \\[none\\]")] | any'
cv_listener_sync || cv_fail "the listener did not log its marker"
assert_eq "address literals: no DNS query was sent" "" "$(cv_listener_heard)"

# --- malformed input: exit 3, nothing sent ---------------------------------------
bad() { # bad WHAT ERE ARG...: exit 3 with a message matching ERE
	local what=$1 re=$2
	shift 2
	cv_run "bad-$what" "$SB_CERTVIGIL" check "$@" "${quiet[@]}" --format json -o "$SB_DIR/bad.json"
	assert_exit 3
	assert_match "bad $what: says why" "$re" "$(cat "$CV_STDERR")"
	assert_ok "bad $what: no report" test ! -e "$SB_DIR/bad.json"
}
long=$(printf 'a%.0s' {1..63}).$(printf 'b%.0s' {1..63}).$(printf 'c%.0s' {1..63}).$(printf 'd%.0s' {1..63}).test
bad empty "HOST is empty" ""
bad port "HOST 'x\\.example\\.test:99999': the port is not a number" "x.example.test:99999"
bad port-text "the port is not a number" "127.0.0.1:https"
bad space "HOST 'api example\\.test': not a DNS name" "api example.test"
bad long "longer than 253 characters" "$long"
bad wildcard "--wildcard 'ok\\.example\\.test': expected \\*\\.NAME" "x.example.test" --wildcard ok.example.test
bad wildcard-other "--wildcard '\\*\\.other\\.org' does not cover 'api\\.ok\\.example\\.test' \\(a wildcard stands for exactly one label\\)" \
	"api.ok.example.test" --wildcard '*.other.org'
bad wildcard-shallow "--wildcard '\\*\\.example\\.test' does not cover 'api\\.ok\\.example\\.test'" \
	"api.ok.example.test:$port" --wildcard '*.example.test'
bad wildcard-apex "--wildcard '\\*\\.OK\\.example\\.test' does not cover 'ok\\.example\\.test'" \
	"ok.example.test" --wildcard '*.OK.example.test'
bad wildcard-ip "--wildcard needs a host name" "127.0.0.1:$CV_LISTEN_PORT" --wildcard '*.example.test'
bad no-host "which host\\?"
bad two-hosts "unexpected argument 'b\\.example\\.test'" a.example.test b.example.test
bad state-dir "--state-dir is for audit and daemon, not check" "127.0.0.1:$CV_LISTEN_PORT" --state-dir "$state"
bad port-option "--port is for audit, daemon and plan, not check" "127.0.0.1:$CV_LISTEN_PORT" --port 443
bad dns-port "--dns-port is for audit and daemon, not check" "127.0.0.1:$CV_LISTEN_PORT" --dns-port 53
bad config "--config is for audit, daemon and plan, not check" "127.0.0.1:$CV_LISTEN_PORT" --config "$SB_DIR/none.yaml"
bad trust "^certvigil check: platform '127\\.0\\.0\\.1': $SB_DIR/none\\.pem: cannot load trust anchors: .*\\(--trust\\)" \
	"127.0.0.1:$CV_LISTEN_PORT" --trust "$SB_DIR/none.pem"
cv_run bad-output "$SB_CERTVIGIL" check "127.0.0.1:$CV_LISTEN_PORT" -o "$SB_DIR/no/such/dir/report.json"
assert_exit 3
assert_match "bad output: names the directory" "$SB_DIR/no/such/dir" "$(cat "$CV_STDERR")"
cv_listener_sync || cv_fail "the listener did not log its marker"
assert_eq "malformed input: nothing reached the listener" "" "$(cv_listener_heard)"
# The control: the same listener hears a check that gets going.
cv_run control "$SB_CERTVIGIL" check "api.ok.example.test:$port" "${quiet[@]}" --timeout 300ms --deadline 2s
cv_run control-tcp "$SB_CERTVIGIL" check "127.0.0.1:$CV_LISTEN_PORT" --timeout 300ms --deadline 2s
cv_listener_sync || cv_fail "the listener did not log its marker"
assert_ok "control: the listener hears the lookup" grep -q '^udp ' "$CV_LISTEN_LOG"
assert_ok "control: the listener hears the connection" grep -qx 'tcp' "$CV_LISTEN_LOG"

# --- help ----------------------------------------------------------------------
cv_run help "$SB_CERTVIGIL" check --help
assert_exit 0
assert_match "check --help shows the check options" \
	'^Usage: certvigil check HOST\[:PORT\] .*no DNS lookup and no SNI.*--wildcard \*\.NAME.*--resolver.*--trust.*--timeout.*--deadline.*--format FORMAT.*--output FILE.*--quiet.*--verbose.*--fail-on' \
	"$(tr '\n' ' ' <"$CV_STDOUT")"
assert_no_match "check --help lists no platform, state or daemon option" \
	'--config|--values|--base-domain|--platform|--port|--dns-port|--shard|--journal|--state-dir|--no-renew|--dry-run|--listen|--log-target' \
	"$(cat "$CV_STDOUT")"
cv_run top-help "$SB_CERTVIGIL" --help
assert_match "--help names check" '  check  +Probe every address of one host' "$(cat "$CV_STDOUT")"

# --- no state ------------------------------------------------------------------
# Reads change neither size nor times, so the listing alone cannot tell a
# check that read the state from one that did not: a state directory whose
# renewal store is malformed makes every reader complain on stderr.
assert_eq "the state directory was not touched" "$before" "$(listing "$state")"
sb_write_config "$SB_DIR/ok.yaml" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
EOF
bad_store=$SB_DIR/bad-store
mkdir -m 0700 "$bad_store"
printf '{"format": 2, "platforms": {}, "renewal": {"format": 99}}\n' >"$bad_store/state.json"
STATE_DIRECTORY=$bad_store cv_run store-check "$SB_CERTVIGIL" check "api.ok.example.test:$port" \
	--resolver "127.0.0.1:$SB_DNS_PORT" --trust "$p/root.pem"
assert_exit 0
assert_no_match "check does not read the renewal store" 'renewal' "$(cat "$CV_STDERR")"
# The control: audit, in the same environment, reads it and complains.
STATE_DIRECTORY=$bad_store cv_run store-audit "$SB_CERTVIGIL" audit --config "$SB_DIR/ok.yaml"
assert_exit 0
assert_match "control: audit reads the renewal store" \
	"$bad_store/state\\.json: \"renewal\" is not a renewal state of format 1" "$(cat "$CV_STDERR")"

STATE_DIRECTORY=$missing cv_run nostate "$SB_CERTVIGIL" check "api.ok.example.test:$port" \
	--resolver "127.0.0.1:$SB_DNS_PORT" --trust "$p/root.pem"
assert_exit 0
assert_ok "a missing state directory is not created" test ! -e "$missing"
# The control: audit, in the same environment, creates it for the renewal
# guardrails of a platform that renews (healthy: nothing is triggered).
sb_write_config "$SB_DIR/renew.yaml" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    renew: { enabled: true, command: [/bin/false] }
EOF
STATE_DIRECTORY=$missing cv_run audit-state "$SB_CERTVIGIL" audit --config "$SB_DIR/renew.yaml"
assert_exit 0
assert_ok "control: audit with renewal creates it" test -d "$missing"

sb_stop
cv_finish
