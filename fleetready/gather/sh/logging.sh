# shellcheck shell=sh
# fr_logging DOCKER_DAEMON DRAIN_HOST DRAIN_PORT PROTOCOL: where the host forwards its logs and
# whether the drain answers from the host itself (facts_logging.py). One record a
# line, its fields in base64, so no file content can break the framing.
fr_logging() {
    for fr_f in /etc/rsyslog.conf /etc/rsyslog.d/*.conf; do
        [ -r "$fr_f" ] && printf 'file %s %s\n' "$(printf %s "$fr_f" | base64 -w0)" "$(base64 -w0 <"$fr_f")"
    done
    [ -r "$1" ] && printf 'docker %s\n' "$(base64 -w0 <"$1")"
    if pgrep -x rsyslogd >/dev/null 2>&1; then echo rsyslogd running; else echo rsyslogd stopped; fi
    fr_addresses=$(getent ahosts "$2" | awk '{print $1}' | sort -u | paste -sd ' ' -)
    echo "resolve${fr_addresses:+ $fr_addresses}"
    # A TCP connect from the host itself: the controller's view says nothing about the host's.
    [ "$4" = tcp ] || return 0
    if command -v bash >/dev/null; then
        # shellcheck disable=SC2016  # the inner shell's $0 and $1
        timeout 3 bash -c 'exec 3<>/dev/tcp/"$0"/"$1"' "$2" "$3" 2>/dev/null
        echo "reach $?"
    elif command -v nc >/dev/null; then
        nc -z -w 3 "$2" "$3" 2>/dev/null
        echo "reach $?"
    else
        echo reach untested
    fi
}
