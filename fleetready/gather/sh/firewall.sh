# shellcheck shell=sh
# fr_firewall [FORMAT PATH UNIT]...: the packet filter, live and saved, and the listening TCP
# sockets, each output a part (fr_part; facts_firewall.py names them). Stderr is
# kept apart so a warning cannot spoil nft's JSON. The arguments: each saved ruleset's format
# (nft or iptables), path and the unit that restores it at boot.
fr_firewall() {
    # ss asks the kernel for listening sockets only; /proc/net/tcp walks every socket of the
    # machine (slow on a busy host), so it is the fallback where iproute2 is absent.
    if command -v ss >/dev/null 2>&1; then
        fr_part ss ss -Htln
    else
        fr_part tcp fr_proc_tcp
    fi
    fr_part inet6 cat /proc/net/if_inet6
    if command -v nft >/dev/null 2>&1; then
        fr_part nft nft -j list ruleset
    else
        fr_part iptables-nft iptables-nft-save
        fr_part ip6tables-nft ip6tables-nft-save
    fi
    fr_legacy iptables ip_tables
    fr_legacy ip6tables ip6_tables
    fr_units=
    while [ $# -ge 3 ]; do
        if [ -e "$2" ]; then
            fr_part "file:$2" cat "$2"
            # nft itself resolves includes and variables, in a fresh network namespace: the
            # live ruleset is untouched.
            if [ "$1" = nft ]; then
                # shellcheck disable=SC2016  # the inner shell's $1
                fr_part "load:$2" unshare -n sh -c 'nft -f "$1" && nft -j list ruleset' - "$2"
            fi
        fi
        case " $fr_units " in *" $3 "*) ;; *) fr_units="$fr_units $3" ;; esac
        shift 3
    done
    if [ -d /run/systemd/system ]; then
        fr_part systemd true
        for fr_unit in $fr_units; do
            fr_part "unit:$fr_unit" systemctl is-enabled "$fr_unit"
        done
    fi
    exit 0
}

fr_proc_tcp() {
    cat /proc/net/tcp && { cat /proc/net/tcp6 2>/dev/null; true; }
}

# fr_filter FILE: whether FILE (/proc/net/ip{,6}_tables_names) lists a filter table. A builtin
# read loop, not grep: no process per host for what is usually absent.
fr_filter() {
    [ -r "$1" ] || return 1
    while IFS= read -r fr_table; do
        [ "$fr_table" = filter ] && return 0
    done <"$1"
    return 1
}

# fr_legacy TOOL TABLES: the legacy filter table, only where the kernel has one: that file
# exists in any container (shared kernel) even when empty, and asking for a table that is not
# there creates it; `-S` would also create /run/xtables.lock, `-save` takes no lock. iptables
# before 1.8 (CentOS 7) is legacy under its plain name.
fr_legacy() {
    fr_filter "/proc/net/$2_names" || return 0
    if command -v "$1-legacy-save" >/dev/null 2>&1; then
        fr_part "$1-legacy" "$1-legacy-save" -t filter
    else
        fr_part "$1-legacy" "$1-save" -t filter
    fi
}
