# shellcheck shell=bash
#
# tests/integration/dns-common.sh: what the dns-* and dns01-* scenarios
# share.  Sourced after `set -euo pipefail`; it sources the sandbox's DNS
# world (tests/sandbox/dns.sh).
#
#   dn_require                 exit 77 unless the sandbox's tools and jq exist
#   dn_up                      sbd_up, or fail the test
#   dn_config <<EOF            the platform list (YAML) for $SB_DIR/dns.yaml
#   dn_audit PLATFORM [ARG...] audit that platform alone; sets DN_RC, DN_MS, DN_JSON
#   dn_expect_findings "ID SEVERITY NAME ADDRESS[ <-CAUSE]" ...
#                              the platform's findings, exactly ("-" for none;
#                              one per problem, named after its first
#                              endpoint; <-CAUSE when folded under another)
#   dn_expect_rc N             certvigil's exit status
#   dn_expect_jq WHAT FILTER   jq -e FILTER holds on the platform's JSON object
#   dn_expect_message ID TEXT  the finding ID's message contains TEXT
#   dn_finish                  exit 1 if anything failed

# shellcheck source-path=SCRIPTDIR source=../sandbox/dns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/dns.sh"

export LC_ALL=C
DN_FAILURES=0
DN_RC= DN_MS= DN_JSON= DN_PLATFORM= DN_CFG=

dn_pass() { printf 'PASS: %s\n' "$*"; }
dn_fail() {
	printf 'FAIL: %s\n' "$*"
	DN_FAILURES=$((DN_FAILURES + 1))
}

dn_require() {
	sb_require_tools jq "$@" || exit 77
	if [[ ! -x $SB_CERTVIGIL ]]; then
		printf '%s is not built\n' "$SB_CERTVIGIL"
		exit 1
	fi
}

dn_up() {
	if ! sbd_up; then
		printf 'the sandbox DNS world did not start\n'
		exit 1
	fi
}

dn_config() {
	DN_CFG=$SB_DIR/dns.yaml
	sb_write_config "$DN_CFG"
}

dn_audit() {
	local t0
	DN_PLATFORM=$1
	shift
	DN_JSON=$SB_DIR/$DN_PLATFORM.json
	rm -f "$DN_JSON"
	t0=$(sb__ms)
	DN_RC=0
	"$SB_CERTVIGIL" audit --config "$DN_CFG" --platform "$DN_PLATFORM" --format json -o "$DN_JSON" "$@" \
		>"$SB_DIR/$DN_PLATFORM.out" 2>"$SB_DIR/$DN_PLATFORM.err" </dev/null || DN_RC=$?
	DN_MS=$(($(sb__ms) - t0))
	printf -- '--- %s: exit %s in %s ms\n' "$DN_PLATFORM" "$DN_RC" "$DN_MS"
	if [[ -s $SB_DIR/$DN_PLATFORM.err ]]; then
		sed 's/^/    stderr: /' "$SB_DIR/$DN_PLATFORM.err" | head -n 5
	fi
	if ! jq -e 'type == "object"' "$DN_JSON" >/dev/null 2>&1; then
		dn_fail "$DN_PLATFORM: a JSON report was written"
		DN_JSON=/dev/null
	fi
}

dn__platform() {
	jq --arg p "$DN_PLATFORM" '.platforms[] | select(.name == $p)' "$DN_JSON"
}

dn_expect_findings() {
	local want got
	want=$(printf '%s\n' "$@" | grep -v '^$' | sort || true)
	got=$(dn__platform | jq -r '.findings[] | "\(.id) \(.severity) \(.name // "-") \(.address // "-")" +
		(if .caused_by then " <-\(.caused_by)" else "" end)' | sort)
	if [[ $want == "$got" ]]; then
		dn_pass "$DN_PLATFORM: findings are exactly: ${*:-none}"
	else
		dn_fail "$DN_PLATFORM: findings"
		printf '    expected:\n%s\n    got:\n%s\n' "$(sed 's/^/      /' <<<"${want:-(none)}")" \
			"$(sed 's/^/      /' <<<"${got:-(none)}")"
		dn__platform | jq -r '.findings[] | "      \(.id): \(.message)"'
	fi
}

dn_expect_rc() {
	if [[ $DN_RC == "$1" ]]; then
		dn_pass "$DN_PLATFORM: exit status $1"
	else
		dn_fail "$DN_PLATFORM: exit status $DN_RC, expected $1"
	fi
}

dn_expect_jq() {
	if dn__platform | jq -e "$2" >/dev/null 2>&1; then
		dn_pass "$DN_PLATFORM: $1"
	else
		dn_fail "$DN_PLATFORM: $1 ($2)"
		dn__platform | jq -c '.dns' | head -c 3000
		echo
	fi
}

dn_expect_message() {
	local id=$1 text=$2
	if dn__platform | jq -e --arg id "$id" --arg t "$text" \
		'[.findings[] | select(.id == $id) | .message | contains($t)] | any' >/dev/null 2>&1; then
		dn_pass "$DN_PLATFORM: $id says \"$text\""
	else
		dn_fail "$DN_PLATFORM: $id should say \"$text\""
		dn__platform | jq -r --arg id "$id" '.findings[] | select(.id == $id) | "      \(.message)"'
	fi
}

dn_finish() {
	if ((DN_FAILURES > 0)); then
		printf '%d check(s) failed\n' "$DN_FAILURES"
		exit 1
	fi
	printf 'all checks passed\n'
	exit 0
}
