#!/bin/bash
#
# tls-hostile.sh: broken and hostile endpoints (tests/tools/hostile) each end
# in tls.handshake.failed with a specific reason within `timeout`, in the
# same run as a healthy platform that they must not delay, with bounded
# memory.  Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls

# One misbehaviour per address; the names of two platforms point at them.
declare -A modes=(
	[127.0.0.11]=silent [127.0.0.12]=http [127.0.0.13]=random [127.0.0.14]=drip
	[127.0.0.15]=reset [127.0.0.16]=hello [127.0.0.17]=bigchain
)
for addr in "${!modes[@]}"; do
	if [[ ${modes[$addr]} == bigchain ]]; then
		sbt_hostile "hostile-${modes[$addr]}" "$addr" bigchain "$SB_DIR/pki/ok.pem"
	else
		sbt_hostile "hostile-${modes[$addr]}" "$addr" "${modes[$addr]}"
	fi
done
sb_knot_set api.h1.example.test A 127.0.0.11
sb_knot_set console.h1.example.test A 127.0.0.12
sb_knot_set grafana.h1.example.test A 127.0.0.13
sb_knot_set auth.h1.example.test A 127.0.0.14
sb_knot_set mcp.h1.example.test A 127.0.0.15
sb_knot_set api.h2.example.test A 127.0.0.16
sb_knot_set console.h2.example.test A 127.0.0.17
sb_knot_set grafana.h2.example.test A 127.0.0.16
sb_knot_set auth.h2.example.test A 127.0.0.17

SBT_WRAP="/usr/bin/time -f %M -o $SB_DIR/maxrss" sbt_audit hostile <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
  - name: h1
    global: { baseDomain: h1.example.test }
    tls: { mode: provided }
    mcp: { enabled: true }
  - name: h2
    global: { baseDomain: h2.example.test }
    tls: { mode: provided }
EOF

sbt_expect_rc "hostile endpoints are critical" 2
sbt_expect ok
# The names point at one misbehaving address each, with no wildcard record:
# the DNS checks (issue 3) say so, which is true and beside the point here.
sbt_expect h1 "tls.handshake.failed critical" "dns.address.inconsistent warning" "dns.wildcard.missing warning"
sbt_expect h2 "tls.handshake.failed critical" "dns.address.inconsistent warning" "dns.wildcard.missing warning"

# Each misbehaviour is named, not just "failed".
reason() {
	local addr=$1 re=$2 msg
	msg=$(jq -r --arg a "$addr" '[.platforms[].endpoints[] | select(.address == $a) | .error][0]' "$SBT_JSON")
	if grep -qE -- "$re" <<<"$msg"; then
		sbt_pass "$addr (${modes[$addr]}): $msg"
	else
		sbt_fail "$addr (${modes[$addr]}): '$msg' does not match /$re/"
	fi
}
reason 127.0.0.11 'within 2.0s \(timeout\).*never answered'
reason 127.0.0.12 'plain HTTP, not TLS \(.HTTP/1.1 400'
reason 127.0.0.13 'not TLS records \(first bytes 9a'
reason 127.0.0.14 'within 2.0s \(timeout\).*stalled'
reason 127.0.0.15 'reset the connection during the handshake'
reason 127.0.0.16 'closed the connection during the handshake, after its SERVER HELLO'
reason 127.0.0.17 'handshake message over 256 KiB'

# Within the timeout (2 s) plus start-up, and the healthy platform was not
# held up: all jobs run at once, so its handshakes took milliseconds.
if ((SBT_MS < 4000)); then sbt_pass "the run took $SBT_MS ms"; else sbt_fail "the run took $SBT_MS ms"; fi
sbt_expect_json "every probe ended within the timeout" \
	'[.platforms[].endpoints[].duration_ms] | max < 2500'
sbt_expect_json "the healthy platform's handshakes were not delayed" \
	'[.platforms[] | select(.name == "ok") | .endpoints[].duration_ms] | max < 1000'

# Bounded memory: a 1 MiB chain is refused at 256 KiB, not buffered.
maxrss=$(tail -n 1 "$SB_DIR/maxrss")
if ((maxrss < 200000)); then sbt_pass "max RSS $maxrss KiB"; else sbt_fail "max RSS $maxrss KiB"; fi

sb_stop
cv_finish
