# shellcheck shell=sh
# fr_deis PORT...: a Deis v1 host's settings (facts_deis.py). Line 1: the preseed
# flag; 2: the release file's DEIS_RELEASE; 3: "etcd PORT" of the first local etcd port that
# answers; 4: its one-line JSON of every key under /deis. Exit 3: no etcd answered.
fr_deis() {
    if [ -e /run/deis/bin/preseed ]; then echo preseed=yes; else echo preseed=no; fi
    if [ -r /etc/deis-release ]; then
        echo "release=$(sed -n 's/^DEIS_RELEASE=//p' /etc/deis-release | head -n 1)"
    else
        echo release=
    fi
    for port; do
        if body=$(curl -sS --max-time 5 "http://127.0.0.1:$port/v2/keys/deis?recursive=true"); then
            echo "etcd $port"
            printf '%s\n' "$body"
            exit 0
        fi
    done
    exit 3
}
