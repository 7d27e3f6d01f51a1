#!/bin/bash
#
# audit-many-platforms.sh: platforms audited in one run share one cap on jobs
# in flight (the largest `concurrency` among them) and one set of trust
# anchors. With 60 platforms (240 names, 480 endpoints on the sandbox's two
# gateway addresses) and a cap of 3, every endpoint is still handshaken and
# judged, the run neither stalls nor starves a platform, and the findings of
# the one broken platform among them stay its own:
#   1. 59 healthy `ok` platforms + 1 `mixed`: exactly one tls.expiry.critical,
#      affecting mixed's 4 names on 127.0.0.2 (with mixed's
#      tls.cert.inconsistent and tls.renewal.overdue folded under the
#      expiry); all 480 endpoints handshaken and verified
#   2. the same with a deadline too short (60 ms) for 480 handshakes at 3 at a time is
#      cut cleanly: the run ends near the deadline with every endpoint
#      accounted for, each one cut short listed by its platform's one
#      audit.deadline.reached (issue 12)
#   4. 120 platforms at the default concurrency start 480 name lookups and
#      their DNS facts at once against the sandbox's knotd (one UDP worker):
#      every name resolves (a channel keeps at most 64 queries out; the
#      burst used to overflow the server's socket and end in timeouts)
#   3. 300 platforms (2,400 endpoints) under `ulimit -n 256`, soft and hard,
#      with the default concurrency: every endpoint is verified, nothing
#      fails with "Too many open files" (the DNS channels and the HTTP client
#      are shared, and the cap on jobs in flight is sized by the limit)

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

platforms() {
	local i
	for i in $(seq -w 1 59); do
		printf '  - name: ok%s\n    global: { baseDomain: ok.example.test }\n    tls: { mode: provided }\n    concurrency: %s\n' "$i" "$1"
	done
	printf '  - name: mixed\n    global: { baseDomain: mixed.example.test }\n    tls: { mode: provided }\n    concurrency: %s\n' "$1"
}

cv_config many < <(platforms 3)
cv_audit many
assert_exit 2
assert_findings "mixed tls.expiry.critical critical api.mixed.example.test 127.0.0.2
mixed tls.cert.inconsistent warning - - <-tls.expiry.critical
mixed tls.renewal.overdue warning api.mixed.example.test 127.0.0.2 <-tls.expiry.critical"
assert_affected mixed tls.expiry.critical "$(cv_pairs "$(cv_names mixed.example.test)" 127.0.0.2)"
assert_jq "many: 60 platforms reported" '.platforms | length' 60
assert_jq "many: 480 endpoints, every one handshaken and verified" \
	'[.platforms[].endpoints[] | [.status, .certificate.verified]] | [length, (map(select(. == ["ok", true])) | length)]' \
	'[480,480]'
assert_faster "many: 480 handshakes at 3 in flight take a few seconds at most" "$CV_MS" 10000

cv_config short < <(platforms 3)
cv_audit short --deadline 60ms
assert_exit 2
assert_faster "short: the run ends near the 60 ms deadline" "$CV_MS" 1500
assert_jq "short: every endpoint is accounted for, each ok or cut by the deadline" \
	'[.platforms[].endpoints[] | select(.status != "ok") | .error | test("deadline \\(60ms\\)")] | all' true
assert_jq "short: every name that was not resolved says why" \
	'[.platforms[].names[] | select(.status != "ok") | .error | test("deadline \\(60ms\\)")] | all' true
assert_true "short: the deadline cut something (else this case tests nothing)" \
	'[.platforms[].findings[] | select(.id == "audit.deadline.reached")] | length > 0'
assert_true "short: every endpoint not probed is listed by its platform's audit.deadline.reached" \
	'[.platforms[] | [.findings[] | select(.id == "audit.deadline.reached") | .affected[] | "\(.name) \(.address)"] as $cut
	  | .endpoints[] | select(.status != "ok") | "\(.name) \(.address)" | IN($cut[])] | all'
assert_true "short: no critical counted but the deadline's (and mixed's expiry)" \
	'[.platforms[].findings[] | select(.severity == "critical" and (.caused_by | not)) | .id] - ["audit.deadline.reached", "tls.expiry.critical"] | length == 0'

healthy() {
	local i
	for i in $(seq -w 1 300); do
		printf '  - name: ok%s\n    global: { baseDomain: ok.example.test }\n    tls: { mode: provided }\n' "$i"
	done
}
cv_config fds < <(healthy)
CV_JSON=$SB_DIR/fds.json
# exec keeps the limit on certvigil itself; -Hn too, so it cannot raise it.
cv_run fds bash -c 'ulimit -Sn 256 && ulimit -Hn 256 && exec "$@"' - \
	"$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$CV_JSON"
assert_exit 0
assert_jq "fds: 2400 endpoints under ulimit -n 256, every one handshaken and verified" \
	'[.platforms[].endpoints[] | [.status, .certificate.verified]] | [length, (map(select(. == ["ok", true])) | length)]' \
	'[2400,2400]'
assert_no_match "fds: no descriptor ran out" 'Too many open files' "$(cat "$CV_STDERR")"

burst() {
	local i
	for i in $(seq -w 1 120); do
		printf '  - name: ok%s\n    global: { baseDomain: ok.example.test }\n    tls: { mode: provided }\n' "$i"
	done
}
SB_CFG_TIMEOUT=5s cv_config burst < <(burst)
cv_audit burst
assert_exit 0
assert_jq "burst: all 480 names resolve" '[.platforms[].names[].status] | group_by(.) | map({(.[0]): length}) | add' \
	'{"ok":480}'

cv_finish
