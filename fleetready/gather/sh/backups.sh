# shellcheck shell=sh
# fr_backups [KIND INDEX A B]...: the host's clock (part `now`: backup ages are judged against
# it) and each host-side backup source as part `source:INDEX` (facts_backups.py):
# `path INDEX DIRECTORY PATTERN` or `restic INDEX REPOSITORY PASSWORD_FILE` (empty: none).
fr_backups() {
    fr_part now date +%s
    while [ $# -ge 4 ]; do
        fr_part "source:$2" "fr_$1" "$3" "$4"
        shift 4
    done
}

# fr_path DIRECTORY PATTERN: `MTIME SIZE NAME` of each file the glob PATTERN names. The pattern
# is expanded as a glob (*, ?, [...]) and nothing else: no field splitting, and a value is
# never parsed as shell. DIRECTORY is its part before any glob: a missing one means no backups
# (a finding); one we may not read is an error (3), as a file we cannot stat is (4).
fr_path() {
    if [ -e "$1" ] && ! { [ -r "$1" ] && [ -x "$1" ]; }; then
        echo "$1: permission denied" >&2
        return 3
    fi
    IFS=
    # shellcheck disable=SC2086  # a glob, expanded on purpose
    for fr_f in $2; do
        [ -e "$fr_f" ] || continue
        stat -L -c '%Y %s %n' -- "$fr_f" || return 4
    done
}

# fr_restic REPOSITORY PASSWORD_FILE: the newest snapshot of every host/paths group, then the
# restored size of the newest one. Without a lock (restic writes one into the repository) or a
# cache: the repository is only read.
fr_restic() {
    if [ -n "$2" ]; then
        set -- -r "$1" --no-cache --no-lock --password-file "$2"
    else
        set -- -r "$1" --no-cache --no-lock
    fi
    fr_s=$(restic "$@" snapshots --json --latest 1) || return
    printf '%s\n' "$fr_s"
    [ "$fr_s" = '[]' ] || restic "$@" stats latest --json
}
