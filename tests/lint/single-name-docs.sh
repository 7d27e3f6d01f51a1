#!/bin/bash
# single-name-docs.sh: the checks `certvigil check` runs are those whose
# descriptor says single_name = true (checks/*.c); the man page and the
# README list them for the user. Fails when a list misses such a check or
# names one that does not run for a host, so the lists follow the flags.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 99
status=0

# "check FINDING-ID ..." per checks/*.c file with a descriptor.
catalog() {
	local f name
	for f in checks/*.c; do
		name=$(grep -oE '\.name = "[a-z0-9.-]+"' "$f" | head -n 1 | cut -d'"' -f2)
		[[ -n $name ]] || continue
		if grep -q 'single_name = true' "$f"; then printf 'yes '; else printf 'no '; fi
		printf '%s ' "$name"
		grep -oE '^ *\{ "[a-z0-9.-]+", SEVERITY_' "$f" | cut -d'"' -f2 | tr '\n' ' '
		printf '\n'
	done
}

# The checks a mentioned name stands for: the check itself, one of its
# finding ids, or a prefix of one (tls.handshake for tls.handshake.failed).
resolve() {
	local token=$1 single name id
	while read -r single name rest; do
		for id in "$name" $rest; do
			if [[ $id == "$token" || $id == "$token".* ]]; then
				printf '%s %s\n' "$single" "$name"
				break
			fi
		done
	done <<<"$cat"
}

# judge WHAT TEXT: every single-name check named in TEXT, and nothing else.
judge() {
	local what=$1 text=$2 token single name
	local -A named=()
	[[ -n $text ]] || {
		echo "$what: the list of single-name checks was not found"
		status=1
		return
	}
	while read -r token; do
		local hits
		hits=$(resolve "$token")
		[[ -n $hits ]] || continue # an option or a host name, not a check
		while read -r single name; do
			if [[ $single != yes ]]; then
				echo "$what: names $token ($name), which does not run for a host"
				status=1
			fi
			named[$name]=1
		done <<<"$hits"
	done < <(grep -oE '[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+' <<<"$text" | sort -u)
	while read -r single name _; do
		if [[ $single == yes && -z ${named[$name]:-} ]]; then
			echo "$what: does not name $name, which runs for a host (single_name = true)"
			status=1
		fi
	done <<<"$cat"
}

cat=$(catalog)
if ! grep -q '^yes ' <<<"$cat"; then
	echo "self-check: no check with single_name = true found in checks/*.c"
	exit 1
fi
man=$(sed -n '/runs the checks that apply to a single name:/,/^No platform check runs/p' \
	contrib/man/certvigil.8.in | sed 's/\\-/-/g')
readme=$(sed -n '/^\*\*Checking one host\*\*/,/None of the platform/p' README.md)
judge "contrib/man/certvigil.8.in" "$man"
judge "README.md (Checking one host)" "$readme"

# Prove the judge can fail: a list missing a check, and one naming a
# platform check.
saved=$status
status=0
judge "self-check" "runs dns.resolve only" >/dev/null
[[ $status == 1 ]] || {
	echo "self-check: a list missing checks was not caught"
	saved=1
}
status=0
first=$(grep '^yes ' <<<"$cat" | cut -d' ' -f2 | tr '\n' ' ')
judge "self-check" "$first tls.renewal.overdue" >/dev/null
[[ $status == 1 ]] || {
	echo "self-check: a list naming a platform check was not caught"
	saved=1
}
status=0
judge "self-check" "$first" >/dev/null
[[ $status == 0 ]] || {
	echo "self-check: the exact list was refused"
	saved=1
}
[[ $saved == 0 ]] && echo "the man page and README list the $(grep -c '^yes ' <<<"$cat") single-name checks"
exit "$saved"
