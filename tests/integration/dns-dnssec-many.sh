#!/bin/bash
#
# dns-dnssec-many.sh: DNSSEC validation for many platforms at once. A knotd
# signs sig.test; 100 platforms live under it, all with its KSK as their
# trust anchor, so every one of them asks the validating resolver.
#   1. one audit of the 100 under `ulimit -n 256`: every answer secure
#      (400), no DNSSEC finding or error, and the JSON report is whole:
#      libunbound forks its worker at the first question and the worker
#      exit()s, flushing its copy of whatever a stdio stream held at the
#      fork; report parts written as platforms finish came out twice.
#   2. the same audit as an unprivileged user allowed 4 processes
#      (RLIMIT_NPROC: certvigil, a worker and room to spare): still every
#      answer secure, as the platforms share one validating resolver. One
#      per platform forked 100 workers at once, and all but the first few
#      failed ("could not fork"). Needs root.
#   3. a deadline (30 ms) that cuts the audits short, validations in
#      flight or waiting among them: the report is whole, nothing is judged
#      bogus, no memory error
#   3b. the same with a trust anchor file per platform: 100 setups for 16
#      contexts, most probes waiting for one when the deadline comes; every
#      answer not run says the deadline came first (they said nothing)
#   4. freshness: a daemon audits two of them every 50 ms; once a name is
#      deleted from the zone (records with a 1 h TTL), the daemon's next
#      audits see it gone (a proven NXDOMAIN), not a cached answer; ten
#      reloads drop audits in flight; the name put back is seen again; the
#      daemon stops cleanly.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_require knotd knotc kdig curl
sb_init
N=100
d=$SB_DIR/knot
mkdir -p "$d/run" "$d/db" "$d/zones"
{
	sb_knot_conf_head "$d"
	cat <<EOF
template:
  - id: default
    storage: "$d/zones"
    zonefile-sync: -1
    dnssec-signing: on
zone:
  - domain: sig.test
EOF
} >"$d/knot.conf"
{
	printf '$ORIGIN sig.test.\n$TTL 3600\n'
	printf '@ SOA ns.sig.test. hostmaster.sig.test. 1 3600 600 86400 3600\n@ NS ns\nns A 127.0.0.1\n'
	for i in $(seq "$N"); do
		printf '*.p%d A 127.0.0.3\n' "$i"
	done
} >"$d/zones/sig.test.zone"
sb__spawn knotd "$d/knotd.log" knotd -c "$d/knot.conf"
signed() { kdig +tcp +timeout=1 +retry=0 @127.0.0.1 -p "$SB_DNS_PORT" sig.test DNSKEY +short | grep -q ' 13 '; }
sb__wait_ready knotd 10000 "$d/knotd.log" signed || {
	cv_fail "knotd signs sig.test"
	cv_finish
}
ta=$SB_DIR/anchor.txt
kdig +tcp @127.0.0.1 -p "$SB_DNS_PORT" sig.test DNSKEY +noall +answer |
	awk '$5 == 257 { $1 = "sig.test."; print }' >"$ta"
[[ $(wc -l <"$ta") == 1 ]] || cv_fail "read the KSK back"

# No TLS is served here: any trust setting will do.
SB_CFG_TRUST=system
platforms() { # platforms N [LINE...]: N platforms, each with the extra lines
	local i n=$1
	shift
	for i in $(seq "$n"); do
		printf '  - name: p%d\n    global: { baseDomain: p%d.sig.test }\n    tls: { mode: provided }\n' "$i" "$i"
		printf '    dnssec: { trust_anchor: %s }\n' "$ta"
		(($# == 0)) || printf '    %s\n' "$@"
	done
}
# every_answer_secure LABEL JSON
every_answer_secure() {
	assert_ok "$1: the report is whole JSON" jq -e 'type == "object"' "$2"
	assert_eq "$1: every answer validates" "secure=$((4 * N))" \
		"$(jq -r '[.platforms[].dns.dnssec.answers[].status] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' \
			"$2" 2>/dev/null)"
	assert_eq "$1: no DNSSEC finding, no DNSSEC error" "0 0" \
		"$(jq -r '"\([.platforms[].findings[] | select(.id | test("dnssec"))] | length)" +
			" \([.platforms[].dns.dnssec | select(.error)] | length)"' "$2" 2>/dev/null)"
}

# --- 1. a hundred platforms, one audit, 256 descriptors -----------------------------
cv_config many < <(platforms "$N")
CV_JSON=$SB_DIR/many.json
# shellcheck disable=SC2016 # expanded by the inner shell
cv_run many bash -c 'ulimit -n 256 && exec "$@"' - "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$CV_JSON"
assert_ok "the audit runs (exit 0 or 2)" test "$CV_RC" -le 2
every_answer_secure "$N platforms in 256 descriptors" "$CV_JSON"
assert_no_match "$N platforms: no memory error, no leak report" 'ERROR: (AddressSanitizer|LeakSanitizer)' \
	"$(cat "$CV_STDERR")"

# --- 2. the same within 4 processes -------------------------------------------------
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
	# A user id of its own: RLIMIT_NPROC counts every process of the user.
	uid=$((60000 + $$ % 5000))
	mkdir -m 0777 "$SB_DIR/nproc"
	chmod 0755 "$SB_DIR"
	chmod 0644 "$ta" "$CV_CFG"
	# shellcheck disable=SC2016 # expanded by the inner shell
	cv_run nproc setpriv --reuid "$uid" --regid "$uid" --clear-groups -- bash -c 'ulimit -u 4 && exec "$@"' - \
		"$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$SB_DIR/nproc/report.json"
	assert_ok "with 4 processes: the audit runs (exit 0 or 2)" test "$CV_RC" -le 2
	every_answer_secure "with 4 processes" "$SB_DIR/nproc/report.json"
	# Within 1 process the validator's worker cannot be forked at all: no
	# verdict, and a warning per platform says so instead of silence.
	# shellcheck disable=SC2016 # expanded by the inner shell
	# (A sanitizer build's leak check needs a process of its own at exit.)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		cv_run nproc1 setpriv --reuid "$uid" --regid "$uid" --clear-groups -- bash -c 'ulimit -u 1 && exec "$@"' - \
		"$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$SB_DIR/nproc/report1.json"
	assert_ok "with 1 process: the audit runs (exit 0 or 2)" test "$CV_RC" -le 2
	assert_eq "with 1 process: one DNSSEC finding per platform, dns.dnssec.unchecked" \
		"$N dns.dnssec.unchecked warning" \
		"$(jq -r '.platforms[] | [.findings[] | select(.id | test("dnssec"))] | map("\(.id) \(.severity)") | join(",")' \
			"$SB_DIR/nproc/report1.json" | sort | uniq -c | sed 's/^ *//')"
	assert_match "with 1 process: the message says why" \
		'gave no verdict on 4 of 4 needed answer\(s\), first the name api\.p1\.sig\.test: .*fork' \
		"$(jq -r '.platforms[0].findings[] | select(.id == "dns.dnssec.unchecked") | .message' "$SB_DIR/nproc/report1.json")"
	chmod 0700 "$SB_DIR"
else
	cv_log "SKIP: part 2 needs root and setpriv (to run as a user of its own)"
fi

# --- 3. the deadline comes first ------------------------------------------------------
SB_CFG_DEADLINE=30ms cv_config deadline < <(platforms "$N")
cv_audit deadline
assert_ok "deadline: the audit runs (exit 0 or 2)" test "$CV_RC" -le 2
assert_ok "deadline: the report is whole JSON" jq -e 'type == "object"' "$CV_JSON"
assert_ok "deadline: it cut validations short" \
	jq -e '[.platforms[].dns.dnssec.answers[]? | select(.status != "secure")] | length > 0' "$CV_JSON"
assert_ok "deadline: no dns.dnssec.unchecked (audit.deadline.reached says it)" \
	jq -e '[.platforms[].findings[] | select(.id == "dns.dnssec.unchecked")] | length == 0' "$CV_JSON"
assert_ok "deadline: nothing judged bogus" jq -e '[.platforms[].dns.dnssec.answers[]? | select(.status == "bogus")] | length == 0' \
	"$CV_JSON"
# In a sanitizer build, libunbound's workers (copies of certvigil) printed
# leak reports of libunbound's own at exit, thousands of lines; not any more.
assert_no_match "deadline: no memory error, no leak report" 'ERROR: (AddressSanitizer|LeakSanitizer)' "$(cat "$CV_STDERR")"
cv_log "deadline: answers $(jq -r '[.platforms[].dns.dnssec.answers[]?.status] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' \
	"$CV_JSON")"

# --- 3b. the deadline comes while probes wait for a validator ----------------------
# A copy of the anchor per platform: 100 setups, at most 16 contexts at once,
# so most probes are still waiting for one (or for the anchor zone's DNSKEY)
# when the deadline comes. Their answers stayed "not run" with no reason.
for i in $(seq "$N"); do
	cp "$ta" "$SB_DIR/anchor-$i.txt"
done
SB_CFG_DEADLINE=30ms cv_config distinct < <(platforms "$N" | awk -v dir="$SB_DIR" '
	/^  - name: p/ { i = substr($3, 2) }
	/trust_anchor:/ { sub(/trust_anchor: [^ }]*/, "trust_anchor: " dir "/anchor-" i ".txt") }
	{ print }')
assert_eq "distinct anchors: one per platform" "$N" "$(grep -c 'anchor-[0-9]*\.txt' "$CV_CFG")"
cv_audit distinct
assert_ok "distinct anchors: the audit runs (exit 0 or 2)" test "$CV_RC" -le 2
assert_ok "distinct anchors: the deadline left answers not run" \
	jq -e '[.platforms[].dns.dnssec.answers[]? | select(.status == "not run")] | length > 0' "$CV_JSON"
assert_eq "distinct anchors: every answer not run says why" "" \
	"$(jq -r '.platforms[] | .name as $p | .dns.dnssec.answers[]? | select(.status == "not run" and (.error | not)) |
		"\($p) \(.name)"' "$CV_JSON" | head -3)"
assert_eq "distinct anchors: ... that the deadline came first" "" \
	"$(jq -r '[.platforms[].dns.dnssec.answers[]? | select(.status == "not run") | .error] | unique |
		map(select(. != "not completed: the audit deadline came first")) | .[]' "$CV_JSON")"
assert_no_match "distinct anchors: no memory error, no leak report" 'ERROR: (AddressSanitizer|LeakSanitizer)' \
	"$(cat "$CV_STDERR")"
cv_log "distinct anchors: answers $(jq -r '[.platforms[].dns.dnssec.answers[]?.status] | group_by(.) |
	map("\(.[0])=\(length)") | join(" ")' "$CV_JSON")"

# --- 4. a daemon's next audit is not answered from a cache --------------------------
cv_config daemon < <(platforms 2 'interval: 50ms' 'jitter: 0s')
sb__spawn daemon "$SB_DIR/daemon.err" "$SB_CERTVIGIL" daemon --log-target stderr \
	--config "$CV_CFG" --state-dir "$SB_DIR/state" --listen 127.0.0.1:0
url=
listening() { url=$(grep -om1 'listening on http://[^ ]*/' "$SB_DIR/daemon.err"); }
sb__wait_ready daemon 5000 "$SB_DIR/daemon.err" listening || cv_fail "the daemon listens"
url=${url#listening on }
# answer P JQ-TEST: in the last report, api.P's answer passes JQ-TEST
answer() {
	curl -fsS --max-time 2 "${url}report.json" 2>/dev/null | jq -e "[.platforms[] | select(.name == \"$1\") |
		.dns.dnssec.answers[] | select(.name == \"api.$1.sig.test\")] | length == 1 and all($2)" >/dev/null
}
assert_ok "before: api.p1 validates, signed over its A record" \
	cv_wait_until 10000 answer p1 '.status == "secure" and .rrsig_over == "api.p1.sig.test A"'
knotc -c "$d/knot.conf" zone-begin sig.test >/dev/null &&
	knotc -c "$d/knot.conf" zone-unset sig.test '*.p1.sig.test.' A >/dev/null &&
	knotc -c "$d/knot.conf" zone-commit sig.test >/dev/null || cv_fail "delete *.p1 from the zone"
gone() { kdig +tcp +timeout=1 +retry=0 @127.0.0.1 -p "$SB_DNS_PORT" api.p1.sig.test A | grep -q 'status: NXDOMAIN'; }
assert_ok "knotd no longer has api.p1" cv_wait_until 5000 gone
assert_ok "after: the daemon's audits see api.p1 gone, proven (not the cached A)" \
	cv_wait_until 10000 answer p1 '.status == "secure" and .rrsig_over != "api.p1.sig.test A"'
assert_ok "after: api.p2 still validates, over its A record" \
	answer p2 '.status == "secure" and .rrsig_over == "api.p2.sig.test A"'
reloads() { (($(grep -c '^.*reloaded ' "$SB_DIR/daemon.err") >= $1)); }
for i in $(seq 10); do
	kill -HUP "$(sb_pid daemon)"
	cv_wait_until 5000 reloads "$i" || break
done
assert_ok "ten reloads" reloads 10
knotc -c "$d/knot.conf" zone-begin sig.test >/dev/null &&
	knotc -c "$d/knot.conf" zone-set sig.test '*.p1.sig.test.' 3600 A 127.0.0.3 >/dev/null &&
	knotc -c "$d/knot.conf" zone-commit sig.test >/dev/null || cv_fail "put *.p1 back"
assert_ok "put back: the daemon's audits see api.p1 again" \
	cv_wait_until 10000 answer p1 '.status == "secure" and .rrsig_over == "api.p1.sig.test A"'
pid=$(sb_pid daemon)
kill -TERM "$pid"
stopped() { ! sb__is_running "$pid"; }
assert_ok "the daemon stops on SIGTERM" cv_wait_until 5000 stopped
rc=0
wait "$pid" || rc=$?
unset 'SB_PIDS[daemon]'
assert_eq "the daemon exits 0" 0 "$rc"
assert_no_match "the daemon: no memory error" 'ERROR: AddressSanitizer' "$(cat "$SB_DIR/daemon.err")"
sb_stop
cv_finish
