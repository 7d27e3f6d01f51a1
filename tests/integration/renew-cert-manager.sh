#!/bin/bash
#
# renew-cert-manager.sh: the cert_manager method against tests/tools/
# https-standin standing in for the Kubernetes API (no API server can run
# here): HTTPS with its own CA (given in the kubeconfig as
# certificate-authority-data), a bearer token, the Certificate GET and the
# status update, every request recorded.  The platform is the sandbox's
# soon.example.test (5 days left) behind a reloadable nginx; the test plays
# cert-manager: once the status update arrives it installs a new
# certificate and reloads nginx.
#   1. GET then PUT .../certificates/NAME/status?fieldManager=certvigil with
#      Content-Type application/json, the token, the resourceVersion read,
#      the other conditions kept and Issuing=True / ManuallyTriggered;
#      renew.triggered reports Ready, renewalTime, failedIssuanceAttempts
#      and lastFailureTime; renew.succeeded with the new serial
#   2. a Certificate already Issuing: renew.suppressed, no PUT
#   3. a wrong token: HTTP 401 is renew.failed, the guardrails untouched
#   4. a kubeconfig without the cluster CA: the server is still verified
#      (against the system store) and the request fails
#   5. provided mode with a kubernetes connection: the wildcard Secret read
#      with the same token; same certificate: nothing; another one:
#      tls.secret.mismatch per endpoint; tls.key of another certificate:
#      tls.secret.key-mismatch
#   6. the token appears in no output, report, state file or request log

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STANDIN=$SB_BUILDDIR/tests/tools/https-standin
cv_require certtool base64 gnutls-cli
if [[ ! -x $STANDIN ]]; then
	cv_log "$STANDIN is not built"
	exit 1
fi
cv_up

k=$SB_DIR/kube
mkdir -p "$k" "$SB_DIR/state"
p=$SB_DIR/pki
token=cvtok-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

# The stand-in's own CA and server certificate (127.0.0.1).
cat >"$k/ca.tmpl" <<EOF
cn = "stand-in kubernetes CA"
ca
cert_signing_key
expiration_days = 30
EOF
cat >"$k/server.tmpl" <<EOF
cn = "kube-apiserver"
ip_address = "127.0.0.1"
tls_www_server
signing_key
expiration_days = 30
EOF
certtool --generate-privkey --key-type ecdsa --outfile "$k/ca-key.pem" 2>/dev/null
certtool --generate-self-signed --no-text --load-privkey "$k/ca-key.pem" --template "$k/ca.tmpl" \
	--outfile "$k/ca.pem" 2>/dev/null
certtool --generate-privkey --key-type ecdsa --outfile "$k/server-key.pem" 2>/dev/null
certtool --generate-certificate --no-text --load-privkey "$k/server-key.pem" --load-ca-certificate "$k/ca.pem" \
	--load-ca-privkey "$k/ca-key.pem" --template "$k/server.tmpl" --outfile "$k/server.pem" 2>/dev/null

api_port=$(sb__pick_port "$SB_TLS_PORT")
base=/apis/cert-manager.io/v1/namespaces/ai-gateway/certificates/ai-gateway-wildcard
cat >"$k/cert.json" <<'EOF'
{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
 "metadata": {"name": "ai-gateway-wildcard", "namespace": "ai-gateway", "resourceVersion": "12345", "generation": 3},
 "spec": {"secretName": "ai-gateway-wildcard-tls", "dnsNames": ["*.soon.example.test"]},
 "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Expired", "message": "renewal failed"}],
            "renewalTime": "2026-11-20T00:00:00Z", "failedIssuanceAttempts": 2,
            "lastFailureTime": "2026-11-25T10:00:00Z"}}
EOF
jq '.status.conditions += [{"type": "Issuing", "status": "True", "reason": "Renewing"}]' "$k/cert.json" \
	>"$k/cert-issuing.json"
routes() {
	printf 'GET %s 200 %s\nPUT %s/status?fieldManager=certvigil 200 %s\n' "$base" "$1" "$base" "$1" >"$k/routes"
}
routes "$k/cert.json"
sb__spawn kube-standin "$k/standin.err" "$STANDIN" 127.0.0.1 "$api_port" "$k/server.pem" "$k/server-key.pem" \
	"$k/routes" "$k/requests.log" "$token"
if ! sb__wait_ready kube-standin 5000 "$k/standin.err" sb__listening kube-standin "$api_port" 127.0.0.1; then
	cv_fail "the Kubernetes API stand-in starts"
	cv_finish
fi

kubeconfig() { # FILE TOKEN [noca]
	{
		printf 'apiVersion: v1\nkind: Config\ncurrent-context: test\n'
		printf 'contexts:\n- name: test\n  context: {cluster: standin, user: certvigil}\n'
		printf 'clusters:\n- name: standin\n  cluster:\n    server: https://127.0.0.1:%s\n' "$api_port"
		[[ ${3:-} == noca ]] || printf '    certificate-authority-data: %s\n' "$(base64 -w0 <"$k/ca.pem")"
		printf 'users:\n- name: certvigil\n  user:\n    token: %s\n' "$2"
	} >"$1"
}
kubeconfig "$k/kubeconfig" "$token"
kubeconfig "$k/kubeconfig-wrong" "not-$token"
kubeconfig "$k/kubeconfig-noca" "$token" noca

if ! sb_serve_soon nginx-cm; then
	cv_fail "the reloadable nginx starts"
	cv_finish
fi
port=$SB_SERVE_PORT

config() { # KUBECONFIG
	cv_config cm <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    port: $port
    renew:
      enabled: true
      cert_manager: { namespace: ai-gateway, certificate: ai-gateway-wildcard, kubeconfig: $1 }
      min_interval: 1s
      verify_every: 1s
      verify_timeout: 15s
EOF
}
# The soon certificate is 10 days into its 15: tls.renewal.overdue (once per
# platform) comes with the expiry finding, and both make renewal due.
# One problem, the expiring certificate of every name (issue 12); its overdue
# renewal is why, folded under it, and still a reason to renew.
critical="soon tls.expiry.critical critical api.soon.example.test 127.0.0.1
soon tls.renewal.overdue warning api.soon.example.test 127.0.0.1 <-tls.expiry.critical"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
serial_of() { sb_cert_serial "$1"; }
old_serial=$(serial_of "$p/soon.pem")

# --- 1. trigger through the API, then "cert-manager" issues ----------------------------------

config "$k/kubeconfig"
CV_JSON=$SB_DIR/trigger.json
"$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$CV_JSON" --state-dir "$SB_DIR/state" \
	>"$SB_DIR/trigger.out" 2>"$SB_DIR/trigger.err" &
cv_pid=$!
assert_ok "trigger: the PUT reached the API" cv_wait_until 10000 grep -q '^=== PUT' "$k/requests.log"
cat >"$k/new.tmpl" <<EOF
cn = "issued by cert-manager"
dns_name = "*.soon.example.test"
tls_www_server
signing_key
expiration_days = 80
EOF
certtool --generate-privkey --key-type ecdsa --outfile "$k/new-key.pem" 2>/dev/null
certtool --generate-certificate --no-text --load-privkey "$k/new-key.pem" --load-ca-certificate "$p/inter.pem" \
	--load-ca-privkey "$p/inter-key.pem" --template "$k/new.tmpl" --outfile "$k/new.pem" 2>/dev/null
cat "$k/new.pem" "$p/inter.pem" >"$SB_DIR/served-chain.pem"
cp "$k/new-key.pem" "$SB_DIR/served-key.pem"
kill -HUP "$(sb_pid nginx-cm)"
CV_RC=0
wait "$cv_pid" || CV_RC=$?
new_serial=$(serial_of "$k/new.pem")

assert_exit 0
assert_findings "$(cv_expect soon renew.succeeded info - -)
$(cv_expect soon renew.triggered info - -)"
assert_messages renew.triggered "^renewal triggered by cert_manager because of tls.expiry.critical,tls.renewal.overdue: Certificate ai-gateway/ai-gateway-wildcard marked Issuing=True \\(ManuallyTriggered\\); it was: Ready=False \\(Expired: renewal failed\\), renewalTime 2026-11-20T00:00:00Z, failedIssuanceAttempts 2, lastFailureTime 2026-11-25T10:00:00Z\$"
assert_messages renew.succeeded \
	"^new certificate served on every address: serial $new_serial \\(notAfter $ts\\) replaces $old_serial \\(notAfter $ts\\)\$"
assert_jq "trigger: the report carries the Certificate as read" '.platforms[0].renewal.cert_manager' \
	'{"ready":"False","ready_reason":"Expired","ready_message":"renewal failed","renewal_time":"2026-11-20T00:00:00Z","failed_issuance_attempts":2,"last_failure_time":"2026-11-25T10:00:00Z","issuing":false}'
assert_eq "trigger: the requests, in order" "=== GET $base
=== PUT $base/status?fieldManager=certvigil" "$(grep '^===' "$k/requests.log")"
assert_eq "trigger: GET headers" "Authorization: <token ok>
Accept: application/json" "$(awk '/^=== GET/ { on = 1; next } on && /^$/ { exit } on && /^(Authorization|Accept|Content-Type):/' "$k/requests.log")"
assert_eq "trigger: PUT headers" "Authorization: <token ok>
Accept: application/json
Content-Type: application/json" "$(awk '/^=== PUT/ { on = 1; next } on && /^$/ { exit } on && /^(Authorization|Accept|Content-Type):/' "$k/requests.log")"
awk '/^=== PUT/ { on = 1; next } on && /^$/ { body = 1; next } body && NF { print; exit }' "$k/requests.log" \
	>"$k/put-body.json"
assert_jq "trigger: PUT body: resourceVersion read, Ready kept, Issuing=True ManuallyTriggered" \
	'[.metadata.resourceVersion, (.status.conditions | map(.type)), (.status.conditions[] | select(.type == "Issuing") | [.status, .reason, .observedGeneration, (.lastTransitionTime | test("^[0-9-]+T[0-9:]+Z$"))])]' \
	'["12345",["Ready","Issuing"],["True","ManuallyTriggered",3,true]]' "$k/put-body.json"

# --- 2. already Issuing: no second trigger ---------------------------------------------------

sb_serve_soon_again nginx-cm
routes "$k/cert-issuing.json"
: >"$k/requests.log"
cv_audit issuing --state-dir "$SB_DIR/state"
assert_exit 2
assert_findings "$critical
$(cv_expect soon renew.suppressed info - -)"
assert_messages renew.suppressed "^renewal due because of tls.expiry.critical,tls.renewal.overdue held back: cert-manager is already issuing the Certificate \\(Ready=False \\(Expired: renewal failed\\), .*Issuing=True\\)\$"
assert_eq "issuing: only the GET was sent" "=== GET $base" "$(grep '^===' "$k/requests.log")"
assert_jq "issuing: the report says cert-manager is issuing" '.platforms[0].renewal.cert_manager | [.ready, .issuing]' \
	'["False",true]'

# --- 3. a wrong token --------------------------------------------------------------------------

routes "$k/cert.json"
config "$k/kubeconfig-wrong"
cv_audit wrong --state-dir "$SB_DIR/state"
assert_findings "$critical
$(cv_expect soon renew.failed critical - -)"
assert_messages renew.failed "^renewal by cert_manager \\(because of tls.expiry.critical,tls.renewal.overdue\\) failed: cannot read Certificate ai-gateway/ai-gateway-wildcard: HTTP 401 \\(no message\\)\$"
assert_jq "wrong: a refused read is not a trigger" '.renewal.platforms.soon | [(.triggers | length), .failures]' '[1,0]' \
	"$SB_DIR/state/state.json"

# --- 4. no cluster CA: verified against the system store, so refused ---------------------------

config "$k/kubeconfig-noca"
: >"$k/requests.log"
cv_audit noca --state-dir "$SB_DIR/state"
assert_messages renew.failed "^renewal by cert_manager \\(because of tls.expiry.critical,tls.renewal.overdue\\) failed: cannot read Certificate ai-gateway/ai-gateway-wildcard: .*(certificate|CA|issuer).*"
assert_eq "noca: nothing reached the API" "" "$(grep '^===' "$k/requests.log" || true)"

# --- 5. provided mode: the wildcard Secret against what is served ----------------------------

# Served now: the sandbox's soon certificate (restored in 2).
secret_json() { # CERT KEY
	printf '{"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "data": {"tls.crt": "%s", "tls.key": "%s"}}\n' \
		"$(base64 -w0 <"$1")" "$(base64 -w0 <"$2")"
}
secret_json "$p/soon-chain.pem" "$p/soon-key.pem" >"$k/secret-same.json"
secret_json "$k/new.pem" "$k/new-key.pem" >"$k/secret-new.json"
secret_json "$k/new.pem" "$p/soon-key.pem" >"$k/secret-badkey.json"
secret_routes() {
	printf 'GET /api/v1/namespaces/ai-gateway/secrets/ai-gateway-wildcard-tls 200 %s\n' "$1" >"$k/routes"
}
cv_config provided <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    tls: { mode: provided, wildcardSecretName: ai-gateway-wildcard-tls }
    kubernetes: { namespace: ai-gateway, kubeconfig: $k/kubeconfig }
    port: $port
EOF
secret_routes "$k/secret-same.json"
cv_audit secret-same
assert_findings "$critical"
assert_eq "secret-same: the Secret was read with the token" "=== GET /api/v1/namespaces/ai-gateway/secrets/ai-gateway-wildcard-tls
Authorization: <token ok>" "$(grep -E '^(===|Authorization)' "$k/requests.log" | tail -n 2)"

secret_routes "$k/secret-new.json"
cv_audit secret-new
assert_exit 2
# The same certificate served on every name is one mismatch with the Secret.
assert_findings "$critical
soon tls.secret.mismatch warning api.soon.example.test 127.0.0.1"
assert_affected soon tls.secret.mismatch "$(cv_pairs "$(cv_names soon.example.test)" 127.0.0.1)"
# certtool prints the fingerprint first among its sha256: lines.
new_sha=$(certtool -i --infile "$k/new.pem" | awk -F: '/^[ \t]*sha256:/ { print $2; exit }')
assert_messages tls.secret.mismatch \
	"^@ADDR@ serves for @NAME@ the certificate sha256 [0-9a-f]{64}, but Secret ai-gateway/ai-gateway-wildcard-tls holds $new_sha: reload the pods or ingress that serve it\$"

secret_routes "$k/secret-badkey.json"
cv_audit secret-badkey
assert_findings "$critical
$(cv_expect soon tls.secret.key-mismatch critical - -)
soon tls.secret.mismatch warning api.soon.example.test 127.0.0.1"
assert_no_match "secret-badkey: no key material in the report" "PRIVATE KEY|$(sed -n 2p "$p/soon-key.pem" | cut -c1-20)" \
	"$(cat "$CV_JSON" "$CV_STDERR")"

# --- 5b. in_cluster: the service account's token and CA ---------------------------------------
# A pod finds them at a fixed path: a private tmpfs over /run (where
# /var/run points) in a mount namespace of this test puts the test's token
# and CA there without touching the host. The Certificate is already
# Issuing, so one authenticated GET proves the in-cluster path.
if [[ $(id -u) == 0 ]] && unshare -m --propagation private true 2>/dev/null; then
	cv_config incluster <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    port: $port
    renew:
      enabled: true
      cert_manager: { namespace: ai-gateway, certificate: ai-gateway-wildcard, in_cluster: true }
EOF
	routes "$k/cert-issuing.json"
	: >"$k/requests.log"
	printf '%s\n' "$token" >"$k/sa-token"
	sa=/var/run/secrets/kubernetes.io/serviceaccount
	CV_JSON=$SB_DIR/incluster.json
	cv_run incluster unshare -m --propagation private env KUBERNETES_SERVICE_HOST=127.0.0.1 \
		KUBERNETES_SERVICE_PORT="$api_port" bash -c 'mount -t tmpfs tmpfs /run && mkdir -p "$1" &&
			cp "$2" "$1/token" && cp "$3" "$1/ca.crt" && shift 3 && exec "$@"' sh "$sa" "$k/sa-token" "$k/ca.pem" \
		"$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$CV_JSON" --state-dir "$SB_DIR/state-incluster"
	assert_exit 2
	assert_findings "$critical
$(cv_expect soon renew.suppressed info - -)"
	assert_eq "in_cluster: one GET with the service account's token, verified with its CA" "=== GET $base
Authorization: <token ok>" "$(grep -E '^(===|Authorization)' "$k/requests.log")"
	assert_jq "in_cluster: the report carries the Certificate" '.platforms[0].renewal.cert_manager.issuing' true
else
	cv_log "in_cluster: not tested here (needs root for a mount namespace)"
fi

# --- 6. the token is nowhere -------------------------------------------------------------------

assert_eq "the token appears in no output, report, state or request log" "" \
	"$(grep -rl -- "$token" "$SB_DIR"/*.out "$SB_DIR"/*.err "$SB_DIR"/*.json "$SB_DIR/state" "$k/requests.log" \
		"$k/standin.err" 2>/dev/null || true)"

cv_finish
