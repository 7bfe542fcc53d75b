# shellcheck shell=sh
# fr_system: who the host is, as name=value lines (facts_system.py).
fr_system() {
    echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
    echo "kernel=$(uname -r)"
    # shellcheck source=/dev/null  # the host's own file
    . /etc/os-release 2>/dev/null
    echo "os=${ID:-unknown}"
    echo "os_version=${VERSION_ID:-}"
    echo "uptime_seconds=$(cut -d. -f1 /proc/uptime 2>/dev/null)"
}
