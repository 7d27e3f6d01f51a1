#!/bin/bash
# banned-functions.sh: fails when the C sources call functions that have no
# bound on what they write or read (curl's checksrc bans the same): strcpy,
# strcat, sprintf, vsprintf, strtok, gets, atoi and friends. Use snprintf,
# the x*asprintf helpers, strtol-based parse_int() or strtok_r-free loops.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 99
banned='strcpy|stpcpy|strcat|strncat|sprintf|vsprintf|strtok|gets|atoi|atol|atoll|atof|tmpnam|mktemp'
# A call is the name, not part of a longer identifier, followed by "(".
mapfile -t files < <(find daemon checks tests/tools tests/unit tests/fuzz -name '*.[ch]' 2>/dev/null | sort)
hits=$(grep -nE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\\(" "${files[@]}" 2>/dev/null |
        grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)')
if [ -n "$hits" ]; then
        echo "banned functions used:"
        echo "$hits"
        exit 1
fi
# Prove the pattern still matches what it must, so this test can fail.
probe=$(printf 'int f(void) { char b[4]; strcpy(b, "x"); return atoi(b); }\n' |
        grep -cE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\\(")
if [ "$probe" != 1 ]; then
        echo "self-check: the pattern no longer matches a known banned call"
        exit 1
fi
echo "no banned functions in ${#files[@]} C files"
exit 0
