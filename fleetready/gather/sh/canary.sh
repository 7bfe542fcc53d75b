# shellcheck shell=sh
# The log canary's commands (fleetready/probe/log_canary.py): the only shell that acts on a host.

# fr_canary_logger TOKEN: a line with TOKEN through the syslog daemon.
fr_canary_logger() {
    logger -t fleetready-canary -- "$1"
}

# fr_canary_container TOKEN NAME SECONDS: TOKEN echoed by a container named NAME, of an image
# already on the host, through the engine's log driver. Images newest first, until one has
# `echo` (exit 126/127: it has none). Exit 3: images not listed; 4: no image could run it.
fr_canary_container() {
    set -f   # the image list is split on blanks, never globbed
    images=$(docker image ls --format '{{.Repository}}:{{.Tag}}') || exit 3
    for image in $images; do
        case $image in *'<none>'*) continue ;; esac
        echo "image $image"
        timeout "$3" docker run --rm --pull never --network none --name "$2" --entrypoint echo "$image" "$1"
        rc=$?
        [ $rc -eq 126 ] || [ $rc -eq 127 ] || exit $rc
    done
    exit 4
}

# fr_canary_watch LOG HEAD TAIL: exit 0 once the token HEAD+TAIL is in LOG; 2: grep could not
# read LOG. Run under `timeout`. The token travels in two halves, so a log of the watcher's
# own command line can never match it.
fr_canary_watch() {
    while :; do
        grep -qF -- "$2$3" "$1"
        rc=$?
        [ $rc -ne 1 ] && exit $rc
        sleep 0.2
    done
}
