#!/bin/bash
#
# install-paths.sh: the man pages and units `make` generates, and
# `certvigil --help`, name the paths this build installs to and reads by
# default (bindir, sysconfdir, localstatedir, pkgdatadir as configured),
# not the paths of some other build: a default ./configure puts the config
# in /usr/local/etc/certvigil, a distribution package in /etc/certvigil.
# make check passes the configured values as CV_*.

set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[[ -n ${CV_SYSCONFDIR:-} && -n ${CV_LOCALSTATEDIR:-} && -n ${CV_BINDIR:-} && -n ${CV_PKGDATADIR:-} ]] ||
	{ echo "SKIP: run from make check (CV_* unset)"; exit 77; }
failures=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	failures=$((failures + 1))
}

config=$CV_SYSCONFDIR/certvigil/certvigil.yaml
state=$CV_LOCALSTATEDIR/lib/certvigil
man8=$top_builddir/contrib/man/certvigil.8
man5=$top_builddir/contrib/man/certvigil.yaml.5
for f in "$man8" "$man5" "$top_builddir/contrib/certvigil.service" "$top_builddir/contrib/certvigil@.service" \
	"$top_builddir/contrib/certvigil-audit.service"; do
	if [[ ! -s $f ]]; then
		fail "$f was not generated"
	elif grep -nE '@(bindir|sysconfdir|localstatedir|pkgdatadir)@' "$f"; then
		fail "$f keeps a placeholder"
	else
		pass "$f generated, no placeholder left"
	fi
done

# Every config path the pages name is under the configured sysconfdir.
check_all() { # FILE PATTERN EXPECTED-PREFIX WHAT
	local hits bad
	hits=$(grep -oE "$2" "$1" || true)
	bad=$(grep -vF -- "$3" <<<"$hits" || true)
	if [[ -z $hits ]]; then
		fail "$(basename "$1") never names $4 ($3)"
	elif [[ -n $bad ]]; then
		fail "$(basename "$1") names $4 elsewhere than $3: $(tr '\n' ' ' <<<"$bad")"
	else
		pass "$(basename "$1") names $4 as $3 ($(wc -l <<<"$hits") time(s))"
	fi
}
check_all "$man8" '[^ ]*/certvigil/certvigil\.yaml' "$config" "the default config"
check_all "$man5" '[^ ]*/certvigil/certvigil\.yaml' "$config" "the default config"
check_all "$man8" '[^ ]*/certvigil/dns\\-providers\.txt' "$CV_PKGDATADIR/dns\\-providers.txt" "the provider table"
grep -qF ".IR $state ." "$man8" && pass "certvigil.8: --state-dir defaults to $state" ||
	fail "certvigil.8 does not give $state as the default state directory"
grep -qF "/etc/certvigil" <<<"$config" ||
	! grep -nE '(^|[ (])/etc/certvigil' "$man8" "$man5" && pass "the pages name no /etc/certvigil of another build" ||
	fail "the pages name /etc/certvigil, this build uses $CV_SYSCONFDIR"

for u in certvigil.service certvigil@.service certvigil-audit.service; do
	exec_start=$(sed -n 's/^ExecStart=//p' "$top_builddir/contrib/$u")
	[[ $exec_start == "$CV_BINDIR/certvigil "*"--config $config "* ]] &&
		pass "$u runs $CV_BINDIR/certvigil with $config" ||
		fail "$u: ExecStart=$exec_start"
done

for cmd in audit daemon plan; do
	help=$("$top_builddir/certvigil" $cmd --help 2>&1)
	[[ $help == *"(default $config)"* ]] && pass "$cmd --help: default config $config" ||
		fail "$cmd --help does not give $config: $(grep -e --config <<<"$help")"
done
help=$("$top_builddir/certvigil" daemon --help 2>&1)
[[ $help == *"\$STATE_DIRECTORY or $state"* ]] && pass "daemon --help: default state directory $state" ||
	fail "daemon --help does not give $state: $(grep -i state <<<"$help")"

if ((failures)); then
	echo "$failures check(s) failed"
	exit 1
fi
