#!/bin/bash
#
# units-verify.sh: the systemd units in contrib/ as `make` generates them
# (with the binary's path pointing at this build, so the ExecStart check
# has something to find) pass `systemd-analyze verify`, and the two
# services rate 2.0 or lower (lower is better) in
# `systemd-analyze security --offline=yes`.
#
# Both run offline here: this machine has no systemd as PID 1, and neither
# command needs one.  What does not work offline: `verify --root=DIR`
# (it then wants the whole unit tree, sysinit.target and all, inside DIR).

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MAX_EXPOSURE=2.0

cv_start none systemd-analyze

dir=$(mktemp -d "${TMPDIR:-/tmp}/certvigil-units.XXXXXX")
trap 'rm -rf -- "$dir"' EXIT
for u in certvigil.service certvigil@.service certvigil-audit.service; do
	sed -e "s|@bindir@|$top_builddir|g" -e 's|@sysconfdir@|/etc|g' -e 's|@localstatedir@|/var|g' \
		"$top_srcdir/contrib/$u.in" >"$dir/$u"
done
cp "$top_srcdir/contrib/certvigil-audit.timer" "$top_srcdir/contrib/certvigil-alert@.service" "$dir/"
# A template is verified through an instance.
cp "$dir/certvigil-alert@.service" "$dir/certvigil-alert@certvigil-audit.service.service"
# The shard template as an instance: shard 2 of 3.
cp "$dir/certvigil@.service" "$dir/certvigil@2-3.service"

cd "$dir" || exit 1
for u in certvigil.service certvigil-audit.service certvigil-audit.timer \
	certvigil-alert@certvigil-audit.service.service certvigil@2-3.service; do
	if out=$(systemd-analyze verify --man=no "./$u" 2>&1) && [[ -z $out ]]; then
		cv_pass "systemd-analyze verify $u"
	else
		cv_fail "systemd-analyze verify $u: $out"
	fi
done
grep -qx 'Type=notify' certvigil.service && grep -q '^ExecReload=' certvigil.service &&
	grep -q '^WatchdogSec=' certvigil.service && grep -qx 'DynamicUser=yes' certvigil.service &&
	grep -qx 'StateDirectory=certvigil' certvigil.service &&
	cv_pass "certvigil.service: Type=notify, ExecReload, WatchdogSec, DynamicUser, StateDirectory" ||
	cv_fail "certvigil.service lacks one of Type=notify, ExecReload, WatchdogSec, DynamicUser, StateDirectory"
grep -q -- '--shard %I ' certvigil@2-3.service && grep -qx 'StateDirectory=certvigil/%i' certvigil@2-3.service &&
	cv_pass "certvigil@.service: the instance is the shard, each with its own state" ||
	cv_fail "certvigil@.service lacks --shard %I or StateDirectory=certvigil/%i"
grep -qx 'RestartPreventExitStatus=3' certvigil.service &&
	cv_pass "certvigil.service: a configuration it cannot use (exit 3) is not restarted in a loop" ||
	cv_fail "certvigil.service lacks RestartPreventExitStatus=3"
for u in certvigil.service certvigil-audit.service; do
	grep -qE '^LimitNOFILE=[0-9]{4,}$' "$u" && cv_pass "$u: LimitNOFILE set (setrlimit is filtered by @resources)" ||
		cv_fail "$u lacks LimitNOFILE="
done
# The installed example config: the daemon refuses it with exit 3 (which the
# unit does not restart) and names what is missing.
if [[ -x $top_builddir/certvigil ]]; then
	rc=0
	err=$("$top_builddir/certvigil" daemon --config "$top_srcdir/contrib/certvigil.yaml" 2>&1 >/dev/null) || rc=$?
	if ((rc == 3)) && [[ $err == *certvigil.yaml:*:*values.yaml* ]]; then
		cv_pass "the example config stops the daemon with exit 3 and a FILE:LINE:COL message"
	else
		cv_fail "the example config: exit $rc, message: $err"
	fi
fi
grep -qx 'Persistent=true' certvigil-audit.timer && grep -q '^RandomizedDelaySec=' certvigil-audit.timer &&
	grep -qx 'OnCalendar=daily' certvigil-audit.timer &&
	cv_pass "certvigil-audit.timer: daily, RandomizedDelaySec, Persistent" ||
	cv_fail "certvigil-audit.timer lacks OnCalendar=daily, RandomizedDelaySec or Persistent=true"

for u in certvigil.service certvigil-audit.service certvigil@2-3.service; do
	out=$(systemd-analyze security --offline=yes --no-pager "./$u" 2>&1) || true
	score=$(sed -nE 's/.*Overall exposure level for [^:]*: ([0-9]+\.[0-9]+).*/\1/p' <<<"$out")
	if [[ -z $score ]]; then
		cv_fail "systemd-analyze security $u printed no score: $(tail -3 <<<"$out")"
	elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
		cv_pass "systemd-analyze security $u: $score <= $MAX_EXPOSURE"
	else
		cv_fail "systemd-analyze security $u: $score > $MAX_EXPOSURE"
		grep '✗' <<<"$out" | awk 'NR <= 20'
	fi
done
# The threshold really is tested: a unit with no hardening scores high.
printf '[Service]\nExecStart=%s/certvigil daemon\n' "$top_builddir" >bare.service
bare=$(systemd-analyze security --offline=yes --no-pager ./bare.service 2>&1 |
	sed -nE 's/.*Overall exposure level for [^:]*: ([0-9]+\.[0-9]+).*/\1/p')
awk -v s="${bare:-0}" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s > m) }' &&
	cv_pass "an unhardened unit scores $bare, above the threshold" ||
	cv_fail "an unhardened unit scores '${bare}', the score parsing is wrong"

cv_finish
