# shellcheck shell=bash
# dns-common.sh: the name the dns-* and dns01-* tests once sourced for the DNS
# world and their assertions; all of it is in the one test kit now.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
