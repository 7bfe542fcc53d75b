# shellcheck shell=sh
# The restore drills (fleetready/probe/backup_drill.py, FR-BAK-02): each reads the newest backup
# of one source back, run under `timeout`. Exit status: 0 readable; 1 unreadable (truncated,
# corrupt, not what the snapshot records); 3 the drill could not run; 127 a tool is missing.

# fr_drill_need TOOL...: exit 127 naming the first TOOL the host lacks.
fr_drill_need() {
    for fr_t in "$@"; do
        command -v "$fr_t" >/dev/null 2>&1 || { echo "$fr_t is not installed on the host" >&2; return 127; }
    done
}

# fr_drill_archive FILE: FILE passes its format's integrity test, read to its end. Writes nothing.
fr_drill_archive() {
    [ -r "$1" ] || { echo "cannot read $1" >&2; return 3; }
    case $1 in
        *.tar.gz | *.tgz) fr_drill_need gzip tar || return; gzip -t -- "$1" && tar -tzf "$1" >/dev/null ;;
        *.tar.zst | *.tzst) fr_drill_need zstd tar || return; zstd -qt -- "$1" && tar --zstd -tf "$1" >/dev/null ;;
        *.tar) fr_drill_need tar || return; tar -tf "$1" >/dev/null ;;
        *.gz) fr_drill_need gzip || return; gzip -t -- "$1" ;;
        *.zst) fr_drill_need zstd || return; zstd -qt -- "$1" ;;
        *)
            # a PostgreSQL custom-format dump: pg_restore to /dev/null reads every entry, where
            # --list would read its table of contents only
            if [ "$(head -c 5 -- "$1")" != PGDMP ]; then
                echo "no integrity test for the format of $1 (.tar, .tar.gz, .tgz, .tar.zst, .gz, .zst, pg_dump -Fc)" >&2
                return 3
            fi
            fr_drill_need pg_restore || return
            pg_restore -f /dev/null -- "$1"
            ;;
    esac || return 1
}

# fr_drill_restic REPOSITORY PASSWORD_FILE SNAPSHOT SUBSET: `restic check` reads a random SUBSET
# of the data packs, then one file of at most 512 KiB (restic's smallest chunk: the file is one
# blob, whose ID is its SHA-256) is restored from SNAPSHOT into a temporary directory, removed
# on exit, and its checksum must be the blob the snapshot records for that path. No lock is
# taken (--no-lock) and no cache kept: the repository is only read.
fr_drill_restic() {
    fr_drill_need restic sha256sum mktemp || return
    fr_tmp=$(mktemp -d) || return 3
    trap 'rm -rf -- "$fr_tmp"' EXIT
    trap 'exit 124' TERM INT HUP
    TMPDIR=$fr_tmp
    export TMPDIR
    fr_snap=$3 fr_subset=$4
    if [ -n "$2" ]; then
        set -- -r "$1" --no-cache --no-lock --password-file "$2"
    else
        set -- -r "$1" --no-cache --no-lock
    fi
    restic "$@" check --read-data-subset="$fr_subset" || return 1
    # the first small file whose JSON path needs no unescaping and is no --include pattern
    fr_file=$(restic "$@" ls --json "$fr_snap" | sed -n \
        's/^{"name":"[^"\\]*","type":"file","path":"\([^"\\*?[]*\)",.*"size":\([0-9]*\),.*/\2 \1/p' |
        awk '$1 > 0 && $1 <= 524288 { sub(/^[0-9]+ /, ""); print; exit }') || return 1
    [ -n "$fr_file" ] || { echo "snapshot $fr_snap has no file of 1 byte to 512 KiB to restore" >&2; return 3; }
    restic "$@" restore "$fr_snap" --target "$fr_tmp/restore" --include "$fr_file" >/dev/null || return 1
    fr_sum=$(sha256sum <"$fr_tmp/restore$fr_file") || return 1
    fr_sum=${fr_sum%% *}
    echo "restored $fr_file sha256 $fr_sum"
    restic "$@" find --blob "$fr_sum" --snapshot "$fr_snap" | grep -qxF -- " ... in file $fr_file" || {
        echo "$fr_file restored from snapshot $fr_snap has sha256 $fr_sum, not the blob the snapshot records" >&2
        return 1
    }
}
