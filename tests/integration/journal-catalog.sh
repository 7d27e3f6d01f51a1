#!/bin/bash
#
# journal-catalog.sh: every MESSAGE_ID certvigil writes (taken from the
# binary: `certvigil list-findings --journal`, so ids added later are
# covered without touching this test) has exactly one entry in
# contrib/certvigil.catalog, the catalog has no entry for an id certvigil
# does not write, and journalctl accepts the file: --update-catalog into a
# scratch root, then --dump-catalog of each id shows its Subject and body.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
catalog=$top_srcdir/contrib/certvigil.catalog
certvigil=$top_builddir/certvigil

cv_start none journalctl

root=$(mktemp -d "${TMPDIR:-/tmp}/certvigil-catalog.XXXXXX")
trap 'rm -rf -- "$root"' EXIT

"$certvigil" list-findings --journal | awk '{ print $1, $3 }' >"$root/ids"
n_ids=$(wc -l <"$root/ids")
if ((n_ids < 10)); then
	cv_fail "list-findings --journal lists $n_ids ids (expected the whole catalog)"
fi

# Catalog entries start with "-- " and 32 lower-case hex digits.
grep -E '^-- ' "$catalog" | sed 's/^-- //' >"$root/catalog-ids"
if grep -vqE '^[0-9a-f]{32}$' "$root/catalog-ids"; then
	cv_fail "malformed entry header(s): $(grep -vE '^[0-9a-f]{32}$' "$root/catalog-ids" | tr '\n' ' ')"
fi
while read -r id mid; do
	n=$(grep -cx "$mid" "$root/catalog-ids" || true)
	if [[ $n == 1 ]]; then
		cv_pass "$id ($mid) has one catalog entry"
	else
		cv_fail "$id ($mid) has $n catalog entries (want exactly 1)"
	fi
done <"$root/ids"
while read -r mid; do
	grep -q " $mid\$" "$root/ids" || cv_fail "catalog entry $mid is no MESSAGE_ID certvigil writes"
done <"$root/catalog-ids"

# Every entry carries the fields journalctl -x shows.
awk '
	/^-- / { if (id) check(); id = $2; subj = def = sup = body = 0; next }
	/^Subject: ./ { subj = 1; next }
	/^Defined-By: ./ { def = 1; next }
	/^Support: ./ { sup = 1; next }
	id && /^[^#].*[a-z]/ && !/^[A-Z][A-Za-z-]*: / { body++ }
	function check() { if (!subj || !def || !sup || body < 2) { print id; bad = 1 } }
	END { if (id) check(); exit bad }
' "$catalog" >"$root/incomplete" && cv_pass "every entry has Subject, Defined-By, Support and a body" ||
	cv_fail "entries without Subject, Defined-By, Support or body: $(tr '\n' ' ' <"$root/incomplete")"

mkdir -p "$root/usr/lib/systemd/catalog"
cp "$catalog" "$root/usr/lib/systemd/catalog/"
if journalctl --root="$root" --update-catalog 2>"$root/update.err" && [[ ! -s $root/update.err ]]; then
	cv_pass "journalctl --update-catalog accepts the catalog"
else
	cv_fail "journalctl --update-catalog: $(cat "$root/update.err")"
fi
[[ -s $root/var/lib/systemd/catalog/database ]] && cv_pass "the catalog database was built" ||
	cv_fail "no $root/var/lib/systemd/catalog/database"
listed=$(journalctl --root="$root" --list-catalog | wc -l)
[[ $listed == "$n_ids" ]] && cv_pass "--list-catalog lists $listed entries" ||
	cv_fail "--list-catalog lists $listed entries, want $n_ids"
while read -r id mid; do
	out=$(journalctl --root="$root" --dump-catalog "$mid" 2>&1) || true
	if grep -q '^Subject: certvigil: ' <<<"$out" && grep -q '^Defined-By: certvigil' <<<"$out" &&
		(($(wc -l <<<"$out") >= 8)); then
		cv_pass "--dump-catalog $mid ($id)"
	else
		cv_fail "--dump-catalog $mid ($id): $out"
	fi
done <"$root/ids"

cv_finish
