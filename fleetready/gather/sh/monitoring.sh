# shellcheck shell=sh
# fr_monitoring MAX_BYTES URL: curl of URL on this host (facts_monitoring.py): the
# body, then a last line: the HTTP status and curl's exit status (no file on the host).
# curl's stderr says why. Exit 127: no curl.
fr_monitoring() {
    command -v curl >/dev/null || { echo 'no curl on the host' >&2; exit 127; }
    curl -sS --max-time 5 --max-filesize "$1" -w '\n%{http_code}' -- "$2"
    echo " $?"
}
