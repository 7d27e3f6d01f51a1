#!/bin/bash
#
# tls-renewal.sh: tls.renewal.overdue and the lifetime-share expiry
# thresholds with certvigil's clock moved by faketime to 60%, 70% and 80% of
# a 90-day and a 6-day certificate's lifetime.  Renewal is due at 67% plus a
# margin (2% of the lifetime, at least an hour).
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls faketime
p=$SB_DIR/pki

# Both start now (a minute ago), so an offset of N% of the lifetime puts
# certvigil's clock at N% of it.
lifetime_cert() { # NAME DAYS
	local from to
	from=$(TZ=UTC0 printf '%(%Y-%m-%d %H:%M:%S UTC)T' "$(($(sb__ms) / 1000 - 60))")
	to=$(TZ=UTC0 printf '%(%Y-%m-%d %H:%M:%S UTC)T' "$(($(sb__ms) / 1000 - 60 + $2 * 86400))")
	cat >"$p/$1.tmpl" <<EOF
cn = "certvigil sandbox $1"
dns_name = "*.$1.example.test"
tls_www_server
signing_key
activation_date = "$from"
expiration_date = "$to"
EOF
	sb__key "$p/$1-key.pem"
	sb__certtool --generate-certificate --no-text --load-privkey "$p/$1-key.pem" \
		--load-ca-certificate "$p/inter.pem" --load-ca-privkey "$p/inter-key.pem" \
		--template "$p/$1.tmpl" --outfile "$p/$1.pem"
	cat "$p/$1.pem" "$p/inter.pem" >"$p/$1-chain.pem"
	sb_knot_set "*.$1.example.test" A 127.0.0.1
	sbt_serve "$1" 127.0.0.1 "*.$1.example.test" "$p/$1-chain.pem" "$p/$1-key.pem"
}
lifetime_cert r90 90
lifetime_cert r6 6
sbt_nginx_restart

# libfaketime comes before the sanitizer runtime in a sanitizer build.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

at() { # at BASE SHARE% EXPECTED_RC FINDING...
	local base=$1 share=$2 rc=$3 days offset
	shift 3
	days=${base#r}
	offset=$((days * 86400 * share / 100))
	SBT_WRAP="faketime -f +${offset}" sbt_audit "$base-$share" <<EOF
  - name: $base
    global: { baseDomain: $base.example.test }
    tls: { mode: provided }
EOF
	printf '%s-day certificate at %s%% of its lifetime:\n' "$days" "$share"
	sbt_expect_rc "  $base at $share%" "$rc"
	sbt_expect "$base" "$@"
}

# 90 days: renewal due after 60.3 + 1.8 days.  At 70% (27 days left) it fires
# while 21 days of warn_days are still far; at 80% warn_days fires too.
at r90 60 0
at r90 70 1 "tls.renewal.overdue warning"
at r90 80 1 "tls.renewal.overdue warning" "tls.expiry.warning warning"
sbt_expect_message r90 tls.renewal.overdue "^8[0-9]% of the 90\\.0-day lifetime .* renewal was due at 67%"
# 6 days: warn at a third of the lifetime (2 days), critical at a tenth.
at r6 60 0
at r6 70 1 "tls.renewal.overdue warning" "tls.expiry.warning warning"
at r6 80 1 "tls.renewal.overdue warning" "tls.expiry.warning warning"
sbt_expect_message r6 tls.expiry.warning "under the threshold of 2\\.0 days, 33% of its 6\\.0-day lifetime \\(warn_days is larger\\)"

# renew_at moves the point: at 70%, renew_at 0.75 is not overdue yet.
SBT_WRAP="faketime -f +$((90 * 86400 * 70 / 100))" sbt_audit r90-renew-at <<EOF
  - name: r90
    global: { baseDomain: r90.example.test }
    tls: { mode: provided }
    renew_at: 75%
EOF
sbt_expect_rc "r90 at 70% with renew_at 75%" 0
sbt_expect r90

sb_stop
cv_finish
