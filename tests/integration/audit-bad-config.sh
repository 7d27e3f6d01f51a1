#!/bin/bash
#
# audit-bad-config.sh: the command line and bad input.  certvigil(8), EXIT
# STATUS 3: "usage error, invalid or unreadable configuration or values file
# (reported as FILE:LINE:COL: message), unreadable trust anchors ...  Nothing
# is sent on the network in this case."
#   1. broken config and values files: exit 3, nothing on stdout, the first
#      line of stderr exactly FILE:LINE:COL: message (FILE: message when there
#      is no position, for a file that cannot be read)
#   2. usage errors: exit 3 and a message
#   3. nothing was sent: every run above points --resolver and --port at a
#      silent listener (UDP and TCP), which must have seen nothing; a valid
#      run pointed at it shows that it would have noticed
#   4. --version, --help, audit --help, list-findings
#   5. plan --format json: names, wildcard and challenge name for both
#      separators with mcp off and on, exactly, with no network traffic
# No sandbox servers are needed: only its scratch directory.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_require perl
sb_init
# shellcheck disable=SC2119 # no argument needed
if ! cv_listener_start; then
	cv_fail "could not start the silent listener"
	cv_finish
fi
LP=$CV_LISTEN_PORT
C=$SB_CERTVIGIL

# Relative file names keep the expected messages short and exact.
mkdir -p "$SB_DIR/bad"
cd "$SB_DIR/bad" || exit 1

# bad NAME 'EXPECTED FIRST LINE OF STDERR' ARGS...: audit with ARGS must fail
# with exit 3, nothing on stdout, and that message.
bad() {
	local name=$1 exp=$2
	shift 2
	cv_run "bad-$name" "$C" audit "$@" --resolver "127.0.0.1:$LP" --port "$LP"
	assert_exit 3
	assert_file_empty "$name: nothing on stdout" "$CV_STDOUT"
	assert_eq "$name: the first line of stderr" "$exp" "$(head -n 1 "$CV_STDERR")"
}

# --- 1. broken files -----------------------------------------------------------------

printf '%s\n' 'platforms:' '  - name: a' '    global: { baseDomain: a.example.test' >unclosed.yaml
bad unclosed "unclosed.yaml:4:1: YAML syntax error: did not find expected ',' or '}'" --config unclosed.yaml

printf 'platforms:\n  - name: a\n\tglobal: { baseDomain: a.example.test }\n' >tab.yaml
bad tab 'tab.yaml:3:1: YAML syntax error: found a tab character that violates indentation' --config tab.yaml

cat >unknown.yaml <<'EOF'
platforms:
  - name: a
    global: { baseDomain: a.example.test }
    colour: red
EOF
bad unknown-key "unknown.yaml:4:5: unknown key 'colour' in platform 'a'" --config unknown.yaml

cat >typo.yaml <<'EOF'
platforms:
  - name: a
    global: { baseDomain: a.example.test, subdomainSeperator: "-" }
EOF
bad typo-key "typo.yaml:3:43: unknown key 'subdomainSeperator' in global (did you mean 'subdomainSeparator'?)" --config typo.yaml

cat >port.yaml <<'EOF'
defaults:
  port: https
platforms:
  - name: a
    global: { baseDomain: a.example.test }
EOF
bad port-type "port.yaml:2:9: 'port' must be an integer" --config port.yaml

cat >port-range.yaml <<'EOF'
platforms:
  - name: a
    global: { baseDomain: a.example.test }
    port: 70000
EOF
bad port-range "port-range.yaml:4:11: 'port' must be between 1 and 65535" --config port-range.yaml

cat >nobase.yaml <<'EOF'
platforms:
  - name: a
    global: { subdomainSeparator: "-" }
EOF
bad no-basedomain "nobase.yaml:2:5: platform 'a' has no global.baseDomain" --config nobase.yaml

cat >label.yaml <<'EOF'
platforms:
  - name: a
    global:
      baseDomain: a.example.test
      subdomains: { api: Bad_Label }
EOF
bad label "label.yaml:5:26: 'Bad_Label' is not a valid DNS label (global.subdomains.api)" --config label.yaml

# Services sharing one label: refused before any report (--format junit once
# overflowed its target array on these).
cat >dup-label.yaml <<'EOF'
global:
  baseDomain: a.example.test
  subdomains: {api: x, console: x, grafana: x}
EOF
bad dup-label "dup-label.yaml:3:33: 'x' (global.subdomains.console) is also the label of global.subdomains.api: every service needs a name of its own" --values dup-label.yaml --format junit

cat >mode.yaml <<'EOF'
platforms:
  - name: a
    global: { baseDomain: a.example.test }
    tls: { mode: acme }
EOF
bad tls-mode "mode.yaml:4:18: unknown tls.mode 'acme' (expected letsencrypt, provided or selfsigned)" --config mode.yaml

cat >days.yaml <<'EOF'
platforms:
  - name: a
    global: { baseDomain: a.example.test }
    warn_days: 5
EOF
bad days "days.yaml:4:16: warn_days (5) must not be less than critical_days (7)" --config days.yaml

bad no-config "nonexistent.yaml: cannot read: No such file or directory" --config nonexistent.yaml

cat >novalues.yaml <<'EOF'
platforms:
  - name: a
    values: missing-values.yaml
EOF
bad values-missing "novalues.yaml:3:5: cannot read values file 'missing-values.yaml': No such file or directory" \
	--config novalues.yaml
bad values-option-missing "missing-values.yaml: cannot read: No such file or directory" --values missing-values.yaml

# An error inside a values file is reported at its own position.
cat >values-bad.yaml <<'EOF'
replicaCount: 2
global:
  baseDomain: "not a domain!"
EOF
printf '%s\n' 'platforms:' '  - name: a' '    values: values-bad.yaml' >values-ref.yaml
bad values-content "values-bad.yaml:3:15: 'not a domain!' is not a valid domain name (global.baseDomain)" \
	--config values-ref.yaml
bad values-option-content "values-bad.yaml:3:15: 'not a domain!' is not a valid domain name (global.baseDomain)" \
	--values values-bad.yaml

# A valid config whose trust anchors cannot be read: stopped before any
# query, although everything else would let the audit start.
cat >good.yaml <<EOF
defaults:
  resolvers: ["127.0.0.1:$LP"]
  port: $LP
  timeout: 300ms
  deadline: 2s
platforms:
  - name: a
    global: { baseDomain: a.example.test }
EOF
bad trust "good.yaml: platform 'a': missing-root.pem: cannot load trust anchors: No such file or directory (--trust)" \
	--config good.yaml --trust missing-root.pem

# --- 2. usage errors -----------------------------------------------------------------

usage() {
	local name=$1 re=$2
	shift 2
	cv_run "usage-$name" "$C" "$@"
	assert_exit 3
	assert_file_empty "$name: nothing on stdout" "$CV_STDOUT"
	assert_match "$name: stderr says why" "$re" "$(cat "$CV_STDERR")"
}
usage unknown-option "unrecognized option '--bogus'"$'\n'"Try 'certvigil audit --help'\\." \
	audit --config good.yaml --bogus
usage format "^certvigil: --format: unknown format 'xml' \\(text, json, junit, github or prometheus\\)$" audit --config good.yaml --format xml
usage port-0 "^certvigil: --port: '0' is not a port number \\(1-65535\\)$" audit --config good.yaml --port 0
usage port-text "^certvigil: --port: 'https' is not a port number \\(1-65535\\)$" audit --config good.yaml --port https
# An option of another command is refused, naming the commands it is for.
usage plan-trust "^certvigil plan: unrecognized option '--trust'"$'\n'"certvigil plan: --trust is for audit, check and daemon, not plan"$'\n'"Try 'certvigil plan --help'\\.$" \
	plan --config good.yaml --trust /nonexistent.pem
dn_why="is not a domain name \\(labels of a-z, 0-9 and '-', at least two, not an IP address\\)"
usage base-domain-bad "^certvigil: --base-domain: 'not a name' $dn_why$" audit --base-domain "not a name"
# An address is refused by the flag itself, not as a position in the config
# document the flags become (it was "--base-domain:3:27: ...").
usage base-domain-ip "^certvigil: --base-domain: '192.0.2.1' $dn_why$" audit --base-domain 192.0.2.1
usage base-domain-idn "^certvigil: --base-domain: 'b.xc3.xbccher.example' $dn_why: write internationalized names in A-label form \\(xn--...\\)$" \
	plan --base-domain "bücher.example"
usage separator-bad "^certvigil: --separator: '_' is not \\. or -$" audit --base-domain ai.example.com --separator _
usage mode-bad "^certvigil: --mode: unknown tls.mode 'acme' \\(expected letsencrypt, provided or selfsigned\\)$" \
	audit --base-domain ai.example.com --mode acme
usage dns-zone-bad "^certvigil: --dns-zone: 'a b' $dn_why$" audit --base-domain ai.example.com --dns-zone "a b"
# Upper case and a trailing dot mean what they mean in a values file.
cv_run base-domain-fqdn "$C" plan --format json --base-domain AI.Example.COM. --dns-zone Example.COM.
assert_exit 0
assert_jq "--base-domain AI.Example.COM. --dns-zone Example.COM.: as in a values file" \
	'.platforms[0] | [.name, .base_domain, .wildcard, .dns01_zone]' \
	'["ai.example.com","ai.example.com","*.ai.example.com","example.com"]' "$CV_STDOUT"
usage base-and-config "^certvigil audit: --config, --values and --base-domain exclude each other$" \
	audit --config good.yaml --base-domain ai.example.com
usage separator-alone "^certvigil audit: --separator, --mode and --dns-zone describe a --base-domain platform$" \
	audit --config good.yaml --separator -
usage daemon-base "certvigil daemon: --base-domain is for audit and plan, not daemon" daemon --base-domain ai.example.com
usage daemon-quiet "^certvigil daemon: invalid option -- 'q'"$'\n'"certvigil daemon: -q is for audit and check, not daemon" daemon -q
usage plan-format "^certvigil plan: --format: 'junit' is not text or json$" plan --config good.yaml --format junit
usage dns-port-0 "^certvigil: --dns-port: '0' is not a port number \\(1-65535\\)$" audit --config good.yaml --dns-port 0
usage dns-port-big "^certvigil: --dns-port: '65536' is not a port number \\(1-65535\\)$" audit --config good.yaml --dns-port 65536
usage config-and-values '^certvigil audit: --config, --values and --base-domain exclude each other$' \
	audit --config good.yaml --values values-bad.yaml
usage timeout-0 "^certvigil: --timeout: '0' is not a duration" audit --config good.yaml --timeout 0
usage deadline-text "^certvigil: --deadline: 'soon' is not a duration" audit --config good.yaml --deadline soon
usage unknown-platform "unknown platform 'nope'" audit --config good.yaml --platform nope
usage bad-resolver "invalid resolver 'bogus'" audit --config good.yaml --resolver bogus
usage extra-argument "unexpected argument 'extra'" audit --config good.yaml extra
usage unknown-command "^certvigil: unknown command 'frob'" frob
usage no-command '^Usage: certvigil COMMAND' # no arguments at all

# A shard that owns none of the platforms: an empty report at once (the
# audit waited forever for runs that never started), and nothing is sent.
for s in 1 2; do
	if [[ -z $(jq -r '.platforms[].name' <("$C" plan --config good.yaml --shard "$s/2" --format json)) ]]; then
		empty=$s
	fi
done
cv_run empty-shard timeout 20 "$C" audit --config good.yaml --shard "${empty:-0}/2" --format json
assert_exit 0
assert_jq "empty shard: an empty report" '[.status, (.platforms | length)]' '["ok",0]' "$CV_STDOUT"
assert_eq "empty shard: says so" "certvigil: no platform to audit (shard ${empty:-0}/2 owns none of them)" \
	"$(cat "$CV_STDERR")"
cv_run shard-platform timeout 20 "$C" audit --config good.yaml --shard "${empty:-0}/2" --platform a
assert_exit 3
assert_match "--platform of another shard: refused" "^certvigil: platform 'a' is shard [0-9]/2's, not ${empty:-0}/2's" \
	"$(cat "$CV_STDERR")"

# -o naming one of the run's own inputs is refused, the input untouched: the
# report used to replace the config, the values file or state.json.
printf 'global: { baseDomain: ow.example.test }\n' >own-values.yaml
mkdir -p own-state
printf '{"format": 2, "platforms": []}\n' >own-state/state.json
ln -sf good.yaml good-link.yaml
cp good.yaml good.yaml.orig
cp own-values.yaml own-values.yaml.orig
cp own-state/state.json own-state.json.orig
bad o-config "certvigil: -o good.yaml is the config file: the report would replace it" --config good.yaml -o good.yaml
bad o-config-link "certvigil: -o good-link.yaml is the config file: the report would replace it" \
	--config good.yaml -o good-link.yaml
bad o-values "certvigil: -o own-values.yaml is the values file: the report would replace it" \
	--values own-values.yaml -o own-values.yaml
bad o-state "certvigil: -o ./own-state//state.json is the state file: the report would replace it" \
	--config good.yaml --state-dir own-state -o ./own-state//state.json
# Without --state-dir the renewal guardrails still live in $STATE_DIRECTORY's
# state.json (systemd's StateDirectory=), which the report would replace.
STATE_DIRECTORY=$PWD/own-state bad o-state-env \
	"certvigil: -o own-state/state.json is the state file: the report would replace it" \
	--config good.yaml -o own-state/state.json
usage plan-o-values "^certvigil: -o own-values.yaml is the values file: the report would replace it$" \
	plan --values own-values.yaml -o own-values.yaml
cv_run daemon-o-state timeout 20 "$C" daemon --config good.yaml --state-dir own-state -o own-state/state.json
assert_exit 3
assert_eq "daemon -o state.json: refused" \
	"certvigil: -o own-state/state.json is the state file: the report would replace it" "$(cat "$CV_STDERR")"
assert_ok "-o over an input: the config is untouched" cmp -s good.yaml good.yaml.orig
assert_ok "-o over an input: the values file is untouched" cmp -s own-values.yaml own-values.yaml.orig
assert_ok "-o over an input: state.json is untouched" cmp -s own-state/state.json own-state.json.orig

# --- 3. nothing was sent ---------------------------------------------------------------------

if cv_listener_sync; then
	cv_pass "the listener's marker came through"
else
	cv_fail "the listener did not log its marker"
fi
assert_eq "no DNS query or connection reached the listener in any of the runs above" "" "$(cv_listener_heard)"

# The control: the same config with readable trust anchors does query it.
cv_run control "$C" audit --config good.yaml --trust system --format json
assert_exit 2
cv_listener_sync || cv_fail "the listener did not log its marker"
assert_match "control: a run that gets going is seen by the listener" '^udp [0-9]+' "$(cv_listener_heard | head -n 1)"
# A report -o cannot take at the end (a full disk) names it: the audit
# writes it streamed, and said "cannot write the report: ..." alone.
if [[ -c /dev/full ]]; then
	cv_run full-o "$C" audit --config good.yaml --trust system --timeout 100ms -o /dev/full
	assert_exit 3
	assert_eq "audit -o /dev/full: names it" \
		"certvigil: cannot write the report to /dev/full: No space left on device" "$(tail -n 1 "$CV_STDERR")"
fi
: >"$CV_LISTEN_LOG"

# --- 4. version and help ---------------------------------------------------------------------

version=$(sed -n 's/^AC_INIT(\[certvigil\], \[\([^]]*\)\].*/\1/p' "$SB_SRCDIR/configure.ac")
cv_run version "$C" --version
assert_exit 0
assert_eq "--version prints the version" "certvigil ${version:-0.1.0}" "$(cat "$CV_STDOUT")"
assert_file_empty "--version: nothing on stderr" "$CV_STDERR"

# Output that cannot be written (a full disk: /dev/full) is exit status 3,
# said on stderr; --version, --help and list-findings used to exit 0.
if [[ -c /dev/full ]]; then
	full() {
		local name=$1 exp=$2 rc=0
		shift 2
		"$@" >/dev/full 2>"$SB_DIR/full-$name.err" </dev/null || rc=$?
		assert_ok "$name > /dev/full: exit status 3 (was $rc)" test "$rc" = 3
		assert_eq "$name > /dev/full: says why" "$exp" "$(cat "$SB_DIR/full-$name.err")"
	}
	nospace="No space left on device"
	full version "certvigil: cannot write to standard output: $nospace" "$C" --version
	full help "certvigil: cannot write to standard output: $nospace" "$C" audit --help
	full list-findings "certvigil: cannot write to standard output: $nospace" "$C" list-findings
	full list-findings-json "certvigil: cannot write to standard output: $nospace" "$C" list-findings --format json
	full plan "certvigil: cannot write the report to standard output: $nospace" "$C" plan --config good.yaml
else
	cv_log "no /dev/full: the write failures are not tried"
fi

cv_run help "$C" --help
assert_exit 0
assert_match "--help names the commands" '^Usage: certvigil COMMAND.*audit.*plan.*list-findings' "$(tr '\n' ' ' <"$CV_STDOUT")"
assert_file_empty "--help: nothing on stderr" "$CV_STDERR"

cv_run audit-help "$C" audit --help
assert_exit 0
assert_match "audit --help shows the audit options" \
	'^Usage: certvigil audit .*--config FILE.*--values FILE.*--resolver.*--deadline.*--format FORMAT +text, json, junit, github or prometheus.*--output FILE.*--journal.*--state-dir DIR.*--fail-on' \
	"$(tr '\n' ' ' <"$CV_STDOUT")"
assert_file_empty "audit --help: nothing on stderr" "$CV_STDERR"
assert_no_match "audit --help lists no daemon option" '--listen|--log-target' "$(cat "$CV_STDOUT")"

# Each command's --help lists its own options only (issue 12).
cv_run plan-help "$C" plan --help
assert_exit 0
assert_match "plan --help shows the plan options" \
	'^Usage: certvigil plan .*--config FILE.*--values FILE.*--platform.*--port N.*--format FORMAT +text or json .*--output FILE' \
	"$(tr '\n' ' ' <"$CV_STDOUT")"
assert_no_match "plan --help lists no audit or daemon option" \
	'--resolver|--dns-port|--trust|--timeout|--deadline|--journal|--state-dir|--fail-on|--no-renew|--dry-run|--color|--listen|--log-target' \
	"$(cat "$CV_STDOUT")"
cv_run daemon-help "$C" daemon --help
assert_exit 0
assert_match "daemon --help shows the daemon options" \
	'^Usage: certvigil daemon .*--config FILE.*--resolver.*--deadline.*--state-dir DIR.*--log-target.*--listen ADDR:PORT.*--no-renew' \
	"$(tr '\n' ' ' <"$CV_STDOUT")"
assert_match "daemon --help: --format and -o write the report file" \
	'--format FORMAT +json or prometheus .*-o --output FILE +as audits finish' "$(tr '\n' ' ' <"$CV_STDOUT")"
assert_no_match "daemon --help lists no audit-only report option" '--journal|--fail-on|--dry-run|--color' \
	"$(cat "$CV_STDOUT")"

cv_run list-findings "$C" list-findings
assert_exit 0
assert_eq "list-findings: every id with its severity" \
	"audit.deadline.reached critical
caa.forbids-issuer critical
check.error warning
ct.rate-limit.near warning
ct.unexpected warning
dns.address.inconsistent warning
dns.address.unexpected critical
dns.dnssec.bogus critical
dns.dnssec.expiring warning
dns.dnssec.unchecked warning
dns.resolve.failed critical
dns.resolvers.disagree warning
dns.wildcard.mismatch warning
dns.wildcard.missing warning
dns01.challenge.stale info
dns01.cname.dangling critical
dns01.dnssec.bogus critical
dns01.nameservers.inconsistent warning
dns01.provider.mismatch warning
dns01.zone.cut critical
dns01.zone.missing critical
dns01.zone.outside critical
domain.expiry.critical critical
domain.expiry.warning warning
finding.resolved info
finding.silence.expired warning
renew.failed critical
renew.succeeded info
renew.suppressed info
renew.triggered info
tls.ari.renew-now warning
tls.cert.inconsistent warning
tls.cert.ingress-default critical
tls.cert.not-yet-valid critical
tls.chain.incomplete critical
tls.chain.order warning
tls.chain.oversized warning
tls.chain.untrusted critical
tls.connect.failed critical
tls.crl.stale warning
tls.ct.missing critical
tls.expiry.critical critical
tls.expiry.expired critical
tls.expiry.warning warning
tls.handshake.failed critical
tls.issuer.mode-mismatch critical
tls.issuer.staging critical
tls.issuer.staging-configured info
tls.key.weak warning
tls.kx.weak warning
tls.protocol.legacy warning
tls.renewal.overdue warning
tls.revoked critical
tls.san.mismatch critical
tls.secret.key-mismatch critical
tls.secret.mismatch warning
tls.signature.weak warning
tls.wildcard.shape warning" "$(awk '{ print $1, $2 }' "$CV_STDOUT" | sort)"
assert_match "list-findings: a 32-hex-digit MESSAGE_ID on every line" '^[0-9]+$' \
	"$(awk 'length($3) == 32 && $3 ~ /^[0-9a-f]+$/ { n++ } END { print (n == NR ? n : "bad") }' "$CV_STDOUT")"
text_list=$(awk '{ print $1, $2, $3 }' "$CV_STDOUT" | sort)
cv_run list-findings-json "$C" list-findings --format json
assert_exit 0
assert_eq "list-findings --format json: the same ids, severities and MESSAGE_IDs as the text" "$text_list" \
	"$(jq -r '.[] | "\(.id) \(.severity) \(.message_id)"' "$CV_STDOUT" | sort)"
assert_eq "list-findings --format json: every entry has a summary" "true" \
	"$(jq '[.[] | .summary | type == "string" and length > 0] | all' "$CV_STDOUT")"
cv_run list-findings-bad "$C" list-findings --format xml
assert_exit 3
assert_match "list-findings --format xml: the message names the formats" 'text or json' "$(cat "$CV_STDERR")"

# --- 5. plan -------------------------------------------------------------------------------

# A misspelt chart key in a values file is a warning with its position and
# the key meant; the chart's other keys are not; the plan still runs.
cat >typo-values.yaml <<'EOF'
global:
  baseDomain: a.example.test
  subdomainSeperator: "-"
  imageRegistry: registry.example.test
ingress:
  className: nginx
EOF
cv_run plan-typo "$C" plan --values typo-values.yaml
assert_exit 0
assert_eq "plan: a warning for the misspelt key only" \
	"typo-values.yaml:3:3: warning: unknown key 'subdomainSeperator' in global, ignored (did you mean 'subdomainSeparator'?)" \
	"$(cat "$CV_STDERR")"

cat >plan.yaml <<EOF
defaults:
  resolvers: ["127.0.0.1:$LP"]
platforms:
  - name: dot
    global: { baseDomain: ai.example.com }
  - name: dot-mcp
    global: { baseDomain: AI.Example.com. }
    mcp: { enabled: true }
  - name: dash
    global: { baseDomain: ai-gateway.example.com, subdomainSeparator: "-" }
    tls: { mode: provided }
  - name: dash-mcp
    global:
      baseDomain: ai-gateway.example.com
      subdomainSeparator: "-"
      subdomains: { grafana: metrics }
    mcp: { enabled: true }
    tls: { letsencrypt: { dns01: { provider: cloudflare, dnsZone: example.com } } }
    port: 8443
EOF
expected_plan=$(jq -n '
	def names($sep; $base; $labels): [$labels[] | {service: .[0], name: "\(.[1])\($sep)\($base)"}];
	def four: [["api","api"],["console","console"],["grafana","grafana"],["auth","auth"]];
	{format: 1, platforms: [
	  {name: "dot", base_domain: "ai.example.com", separator: ".", tls_mode: "letsencrypt",
	   names: names("."; "ai.example.com"; four),
	   wildcard: "*.ai.example.com", challenge_name: "_acme-challenge.ai.example.com",
	   dns01_zone: null, port: 443},
	  {name: "dot-mcp", base_domain: "ai.example.com", separator: ".", tls_mode: "letsencrypt",
	   names: names("."; "ai.example.com"; four + [["mcp","mcp"]]),
	   wildcard: "*.ai.example.com", challenge_name: "_acme-challenge.ai.example.com",
	   dns01_zone: null, port: 443},
	  {name: "dash", base_domain: "ai-gateway.example.com", separator: "-", tls_mode: "provided",
	   names: names("-"; "ai-gateway.example.com"; four),
	   wildcard: "*.example.com", challenge_name: "_acme-challenge.example.com",
	   dns01_zone: null, port: 443},
	  {name: "dash-mcp", base_domain: "ai-gateway.example.com", separator: "-", tls_mode: "letsencrypt",
	   names: names("-"; "ai-gateway.example.com";
		[["api","api"],["console","console"],["grafana","metrics"],["auth","auth"],["mcp","mcp"]]),
	   wildcard: "*.example.com", challenge_name: "_acme-challenge.example.com",
	   dns01_zone: "example.com", port: 8443}
	]}')
cv_run plan "$C" plan --config plan.yaml --format json
assert_exit 0
assert_file_empty "plan: nothing on stderr" "$CV_STDERR"
assert_eq "plan --format json, exactly (what to create aside)" "$(jq -S . <<<"$expected_plan")" \
	"$(jq -S 'del(.platforms[].create)' "$CV_STDOUT" 2>&1)"
assert_jq "plan --format json: the wildcard record to create, per platform" \
	'[.platforms[].create.dns_records[0] | split(" ")[0:4] | join(" ")]' \
	'["*.ai.example.com. 300 IN A","*.ai.example.com. 300 IN A","*.example.com. 300 IN A","*.example.com. 300 IN A"]' \
	"$CV_STDOUT"
assert_jq "plan --format json: a Certificate for letsencrypt, a Secret for provided" \
	'[.platforms[].create.kubernetes | capture("kind: (?<k>[A-Za-z]+)").k]' \
	'["Certificate","Certificate","Secret","Certificate"]' "$CV_STDOUT"
assert_jq "plan --format json: DNS-01 advice only for letsencrypt, naming the zone when set" \
	'[.platforms[] | (.create.dns01 // "-") | test("in zone example\\.com")]' '[false,false,false,true]' "$CV_STDOUT"

cv_run plan-text "$C" plan --config plan.yaml
assert_exit 0
assert_match "plan (text) lists names, wildcard and challenge name" \
	'Platform dash-mcp: ai-gateway.example.com .*metrics-ai-gateway\.example\.com.*certificate must carry +\*\.example\.com.*DNS-01 challenge name +_acme-challenge\.example\.com' \
	"$(tr '\n' ' ' <"$CV_STDOUT")"
assert_match "plan (text) says what to create: the records, the Certificate, the DNS-01 zone" \
	'Platform dash-mcp: .*DNS records to create: +\*\.example\.com\. 300 IN A .*kind: Certificate .*dnsNames: \["\*\.example\.com"\] .*DNS-01: cert-manager writes TXT records at _acme-challenge\.example\.com\. in zone example\.com' \
	"$(sed -n '/^Platform dash-mcp/,$p' "$CV_STDOUT" | tr '\n' ' ')"
assert_no_match "plan (text): no '(not set)' line" 'not set\)' "$(cat "$CV_STDOUT")"

printf 'image: { tag: "1" }\nglobal: { baseDomain: gw.example.org, subdomainSeparator: "-" }\nmcp: { enabled: true }\n' >plan-values.yaml
cv_run plan-values "$C" plan --values plan-values.yaml --format json
assert_exit 0
assert_jq "plan --values: named after the base domain, mcp on, '-' separator" \
	'.platforms[0] | [.name, [.names[].name], .wildcard, .challenge_name]' \
	'["gw.example.org",["api-gw.example.org","console-gw.example.org","grafana-gw.example.org","auth-gw.example.org","mcp-gw.example.org"],"*.example.org","_acme-challenge.example.org"]' \
	"$CV_STDOUT"

cv_listener_sync || cv_fail "the listener did not log its marker"
assert_eq "plan sent nothing on the network" "" "$(cv_listener_heard)"

cv_finish
