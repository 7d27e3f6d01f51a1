#!/bin/bash
#
# sandbox-selftest.sh: checks tests/sandbox/lib.sh itself, with standard
# tools only (kdig, gnutls-cli, bash /dev/tcp), so that when an integration
# test of certvigil fails, the world it ran against is known to be right.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.

# The checks are functions run through assert_ok, which shellcheck cannot see.
# shellcheck disable=SC2317
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_require gnutls-cli

t0=$(sb__ms)
sb_up
t_up=$(($(sb__ms) - t0))
printf 'sandbox up in %d ms: dns port %s, tls port %s, %s\n' \
	"$t_up" "$SB_DNS_PORT" "$SB_TLS_PORT" "$SB_DIR"

# --- DNS ---------------------------------------------------------------------

dig_() {
	kdig +tcp +timeout=2 +retry=0 @127.0.0.1 -p "$SB_DNS_PORT" "$@" 2>&1
}

a_records() {
	dig_ +short "$1" A | sort | tr '\n' ' '
}

assert_ok "api.ok.example.test resolves to 127.0.0.1 and 127.0.0.2" \
	test "$(a_records api.ok.example.test)" = "127.0.0.1 127.0.0.2 "
assert_ok "grafana.mixed.example.test resolves to 127.0.0.1 and 127.0.0.2" \
	test "$(a_records grafana.mixed.example.test)" = "127.0.0.1 127.0.0.2 "
assert_ok "api-gw.dash.example.test resolves to 127.0.0.1" \
	test "$(a_records api-gw.dash.example.test)" = "127.0.0.1 "
assert_ok "api.tarpit.example.test resolves to 127.0.0.4" \
	test "$(a_records api.tarpit.example.test)" = "127.0.0.4 "

nxdomain() {
	dig_ "$1" A | grep -q 'status: NXDOMAIN'
}
assert_ok "api.gone.example.test is NXDOMAIN" nxdomain api.gone.example.test
assert_ok "gone.example.test is NXDOMAIN" nxdomain gone.example.test

assert_ok "sb_knot_set adds a record" sb_knot_set extra.example.test A 127.0.0.9
assert_ok "the added record resolves" test "$(a_records extra.example.test)" = "127.0.0.9 "

# --- TLS ---------------------------------------------------------------------

# tls_status ADDR NAME [CAFILE]: gnutls-cli's verdict line; exit status is
# gnutls-cli's (0 only if the chain and the name verify).
tls_status() {
	local out rc=0
	out=$(gnutls-cli --x509cafile "${3:-$SB_DIR/pki/root.pem}" --port "$SB_TLS_PORT" \
		--sni-hostname "$2" --verify-hostname "$2" "$1" </dev/null 2>&1) || rc=$?
	grep -m1 'Status:' <<<"$out" || grep -m1 -E 'Error|Fatal' <<<"$out" || true
	return "$rc"
}

verifies() {
	local line
	line=$(tls_status "$@") && return 0
	printf '    %s\n' "$line"
	return 1
}

# fails_with ADDR NAME REASON: verification must fail, for that reason.
fails_with() {
	local line
	if line=$(tls_status "$1" "$2"); then
		printf '    unexpectedly trusted\n'
		return 1
	fi
	grep -q "$3" <<<"$line" || {
		printf '    %s\n' "$line"
		return 1
	}
}

assert_ok "api.ok.example.test verifies on 127.0.0.1" verifies 127.0.0.1 api.ok.example.test
assert_ok "api.ok.example.test verifies on 127.0.0.2" verifies 127.0.0.2 api.ok.example.test
assert_ok "api-gw.dash.example.test verifies on 127.0.0.1" verifies 127.0.0.1 api-gw.dash.example.test
assert_ok "api.expired.example.test fails verification (expired)" \
	fails_with 127.0.0.1 api.expired.example.test 'expired'
assert_ok "api.noint.example.test fails verification (no intermediate)" \
	fails_with 127.0.0.1 api.noint.example.test 'issuer is unknown'
assert_ok "api.wrong.example.test fails verification (name mismatch)" \
	fails_with 127.0.0.1 api.wrong.example.test 'does not match'
assert_ok "api.self.example.test fails verification against root.pem" \
	fails_with 127.0.0.1 api.self.example.test 'issuer is unknown'
assert_ok "api.self.example.test verifies against other-root.pem" \
	verifies 127.0.0.1 api.self.example.test "$SB_DIR/pki/other-root.pem"
assert_ok "an unknown name gets the untrusted default certificate" \
	fails_with 127.0.0.2 api.unknown.example.test 'issuer is unknown'

# The served leaf comes first in --print-cert's output.
not_after() {
	gnutls-cli --insecure --print-cert --port "$SB_TLS_PORT" --sni-hostname "$2" "$1" \
		</dev/null 2>/dev/null | certtool -i 2>/dev/null | sed -n 's/^[[:space:]]*Not After: //p' | awk 'NR <= 1'
}
expires_within_days() {
	local na left
	na=$(not_after "$1" "$2")
	left=$((($(date -u -d "$na" +%s) - $(date -u +%s)) / 86400))
	((left >= $3 - 1 && left <= $3)) || {
		printf '    not after %s (%d days)\n' "$na" "$left"
		return 1
	}
}
assert_ok "127.0.0.2 serves mixed with 5 days left" \
	expires_within_days 127.0.0.2 api.mixed.example.test 5
assert_ok "127.0.0.1 serves mixed with 80 days left" \
	expires_within_days 127.0.0.1 api.mixed.example.test 80

# Only the sandbox's own addresses: a wildcard listener would answer on
# 127.0.0.3 and break every "refused" test.
listeners() {
	local hex
	printf -v hex '%04X' "$SB_TLS_PORT"
	awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 3) == p { print $2 }' \
		/proc/net/tcp /proc/net/tcp6 | sort | tr '\n' ' '
}
# 0100007F is 127.0.0.1 in /proc's byte order.
assert_ok "the TLS port listens on 127.0.0.1, .2 and .4 only" \
	test "$(listeners)" = "0100007F:$(printf %04X "$SB_TLS_PORT") 0200007F:$(printf %04X "$SB_TLS_PORT") 0400007F:$(printf %04X "$SB_TLS_PORT") "

# --- tarpit and refusal --------------------------------------------------------

tarpit_silent() {
	local rc=0 start took
	exec {fd}<>"/dev/tcp/$SB_ADDR_TARPIT/$SB_TLS_PORT" || return 1
	start=$(sb__ms)
	read -r -t 1 -N 1 -u "$fd" _ || rc=$?
	took=$(($(sb__ms) - start))
	exec {fd}>&-
	# read -t returns >128 on timeout; 1 would mean EOF (the peer closed).
	((rc > 128)) || {
		printf '    read returned %d after %d ms\n' "$rc" "$took"
		return 1
	}
}
assert_ok "the tarpit accepts TCP on $SB_ADDR_TARPIT and sends nothing for 1 s" tarpit_silent

refuses() {
	local err start took
	start=$(sb__ms)
	if err=$( (exec 3<>"/dev/tcp/$SB_ADDR_REFUSED/$SB_TLS_PORT") 2>&1); then
		printf '    connected\n'
		return 1
	fi
	took=$(($(sb__ms) - start))
	if ! grep -q 'refused' <<<"$err" || ((took >= 1000)); then
		printf '    %s (%d ms)\n' "$err" "$took"
		return 1
	fi
}
assert_ok "$SB_ADDR_REFUSED refuses TCP at once" refuses

# --- shutdown ----------------------------------------------------------------

declare -A started=()
for name in "${!SB_PIDS[@]}"; do started[$name]=${SB_PIDS[$name]}; done
assert_ok "knotd, nginx and tarpit were running" test "${#started[@]}" -eq 3

# --- the kit ---------------------------------------------------------------------
# cv_run shows the first lines of a command's stderr. Cut with head(1), a
# long stderr killed the printing pipeline with SIGPIPE, which strict mode
# took for an unexpected failure of the test itself (a leak report of
# thousands of lines from an ASan build did it).
kit_long_stderr() {
	(cv_run long bash -c 'seq 200000 >&2') >"$SB_DIR/long.log" 2>&1 &&
		[[ $(grep -c '^    stderr: ' "$SB_DIR/long.log") == 5 ]]
}
assert_ok "cv_run shows five lines of a long stderr and goes on" kit_long_stderr

t0=$(sb__ms)
sb_stop
t_stop=$(($(sb__ms) - t0))
printf 'sandbox stopped in %d ms\n' "$t_stop"

gone() {
	local name pid left=0 p cmd
	for name in "${!started[@]}"; do
		pid=${started[$name]}
		if [[ -e /proc/$pid ]] && [[ $(awk '{print $4}' /proc/"$pid"/stat 2>/dev/null) == "$$" ]]; then
			printf '    %s (pid %s) is still there\n' "$name" "$pid"
			left=1
		fi
	done
	# Anything else still holding our scratch directory or port, including
	# a stray nginx worker if the config ever gets a master process.
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		if [[ $cmd == *"$SB_DIR"* || $cmd == *"tarpit $SB_ADDR_TARPIT $SB_TLS_PORT"* ]]; then
			printf '    still running: %s %s\n' "${p#/proc/}" "$cmd"
			left=1
		fi
	done
	return "$left"
}
assert_ok "no knotd, nginx or tarpit of this sandbox is left" gone
assert_ok "sb_stop can be called again" sb_stop

cv_finish
