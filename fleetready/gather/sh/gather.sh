# shellcheck shell=sh
# The gathering script's driver (facts.py), after frame.sh.

# fr_gather SECTIONS MARKER SECONDS MAX [NAME COUNT ARG...]...: runs each section, function
# fr_NAME of the script SECTIONS with its COUNT arguments, one after another, each in a shell
# of its own under `timeout SECONDS` (a hung command, a Docker CLI facing a hung engine, costs
# its section, not the host), and frames its output under MARKER, cut to MAX bytes. Outputs
# are captured in shell variables (fr_cap): no helper process per section, which on a big
# fleet is most of the hosts' CPU, and no file written on the host.
fr_gather() {
    fr_sections=$1 fr_marker=$2 fr_seconds=$3 fr_max=$4
    shift 4
    export LC_ALL=C
    while [ $# -ge 2 ]; do
        fr_cap fr_section "$@"
        fr_emit "$fr_marker" "$fr_max" "$1"
        shift $(($2 + 2))
    done
}

# fr_section NAME COUNT ARG... [the next sections' words]: runs in fr_cap's subshell, so it
# may drop the next sections' words from its arguments: the first COUNT are rotated to the
# end, then the others shifted away.
fr_section() {
    fr_name=$1 fr_count=$2
    shift 2
    fr_drop=$(($# - fr_count))
    while [ "$fr_count" -gt 0 ]; do
        set -- "$@" "$1"
        shift
        fr_count=$((fr_count - 1))
    done
    shift "$fr_drop"
    set -- "$0" -c "$fr_sections" "$0" "fr_$fr_name" "$@"
    if command -v timeout >/dev/null 2>&1; then
        timeout "$fr_seconds" "$@"
    else   # a host without coreutils' timeout: its sections run unbounded
        "$@"
    fi
}
