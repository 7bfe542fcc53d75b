"""FR-BAK-01 and FR-BAK-02 against real lab hosts: file backups, restic repositories on the
host, and S3 buckets on a real S3-speaking server (moto) on the controller's loopback. Each
restore drill fails on a real defect (a truncated tar.gz, a restic pack file with damaged
bytes, an S3 object shorter than its listing, a WAL-E base backup without its data) and passes
on a sound backup, and leaves nothing behind on the host."""

import datetime
import time

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.labrun import run_cases
from tests.test_read_only import fingerprint, sessions

RESTIC = "restic -r /srv/restic --password-file /root/restic.pass"
DB = {"name": "db", "kind": "path", "path": "/var/backups/fleetready/db-*.tar.gz", "max_age_hours": 26}


@pytest.fixture(scope="module")
def lab(make_lab):
    lab = make_lab(
        full={
            "sound": "sound",
            "stale": "backup_stale",
            "empty": "backup_empty",
            "truncated": "backup_truncated",
            "etcd": "firewall_open_port",
        }
    )
    # The store gateway's credentials where Deis v1 keeps them.
    lab.host("etcd").check(
        "for kv in accessKey=lab-access secretKey=lab-secret; do"
        " ETCDCTL_API=2 etcdctl set /deis/store/gateway/${kv%%=*} ${kv#*=} >/dev/null; done"
    )
    # A restic repository with one fresh snapshot of 5000 bytes, and one nobody can open.
    lab.host("sound").check(
        "set -e; echo lab-secret >/root/restic.pass; mkdir -p /srv/data;"
        " head -c 5000 /dev/urandom >/srv/data/blob;"
        f" {RESTIC} init -q; {RESTIC} backup -q /srv/data"
    )
    # Its copy with 8 bytes overwritten inside the data pack (the larger of its two packs, beside
    # the tree pack); a pg_dump custom-format header, whose tool the host lacks; a FIFO, which no
    # reader ever finishes.
    lab.host("sound").check(
        "set -e; cp -a /srv/restic /srv/restic-damaged;"
        " pack=$(find /srv/restic-damaged/data -type f -printf '%s %p\\n' | sort -n | tail -1 | cut -d' ' -f2);"
        " printf XXXXXXXX | dd of=$pack bs=1 seek=200 conv=notrunc 2>/dev/null;"
        " mkdir -p /var/backups/pg /var/backups/fifo; printf PGDMP >/var/backups/pg/db.dump; mkfifo /var/backups/fifo/db.tar"
    )
    return lab


@pytest.fixture(scope="module")
def s3():
    """A real S3 API on loopback: bucket `fresh` with a new object, `stale` with a 3-day-old one;
    WAL-E buckets: `db-wal` with a fresh base backup, `db-wal-stale` with a 10-hour-old one
    beside fresh objects that are not finished backups."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="lab", aws_secret_access_key="lab", region_name="us-east-1"
    )
    for bucket in ("fresh", "stale"):
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="nightly/db.dump", Body=b"x" * 2048)
    sentinel = "basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json"
    for bucket in ("db-wal", "db-wal-stale", "db-wal-no-data"):
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key=sentinel, Body=b'{"expanded_size_bytes": 4096}')
    client.put_object(
        Bucket="db-wal",
        Key="basebackups_005/base_000000010000000000000002_00000040/tar_partitions/part_00000000.tar.lzo",
        Body=b"x" * 4096,
    )
    client.create_bucket(Bucket="short")
    client.put_object(Bucket="short", Key="nightly/db.dump", Body=b"x" * 2048)
    client.put_object(
        Bucket="db-wal-stale",
        Key="basebackups_005/base_000000010000000000000009_00000040/tar_partitions/part_00000000.tar.lzo",
        Body=b"x" * 4096,
    )
    client.put_object(Bucket="db-wal-stale", Key="wal_005/000000010000000000000009.lzo", Body=b"x" * 4096)
    # moto keeps no clock of its own: age objects in its store, as `touch -d` ages a file.
    from moto.s3.models import s3_backends

    buckets = s3_backends["123456789012"]["global"].buckets
    now = datetime.datetime.now(datetime.UTC)
    buckets["stale"].keys["nightly/db.dump"].last_modified = now - datetime.timedelta(hours=72)
    buckets["db-wal-stale"].keys[sentinel].last_modified = now - datetime.timedelta(hours=10)
    # An object the store lists at 4096 bytes and serves 2048 of, as after a lost write.
    buckets["short"].keys["nightly/db.dump"].contentsize = 4096
    yield endpoint
    server.stop()


def s3_source(endpoint, bucket, **extra):
    return {
        "name": "offsite",
        "kind": "s3",
        "endpoint": endpoint,
        "bucket": bucket,
        "prefix": "nightly/",
        "access_key": "lab",
        "secret_key": "lab",
        "max_age_hours": 26,
        **extra,
    }


def wale(endpoint, bucket):
    return {"name": "database", "kind": "deis-wal-e", "endpoint": endpoint, "bucket": bucket, "max_age_hours": 6}


def with_sources(cases):
    """{name: (lab host, [source] or None)} as run_cases takes it: the sources as a policy override."""
    return {
        name: (lab_host, sources and {"backups": {"sources": sources}}) for name, (lab_host, sources) in cases.items()
    }


RESTIC_SOURCE = {
    "name": "files",
    "kind": "restic",
    "repository": "/srv/restic",
    "password_file": "/root/restic.pass",
    "max_age_hours": 26,
}


@pytest.fixture(scope="module")
def results(lab, s3, tmp_path_factory):
    # Several inventory names may share one lab host: each is a policy judged on its facts.
    cases = {
        "sound": ("sound", None),
        "stale": ("stale", None),
        "empty": ("empty", None),
        "missing": ("sound", [dict(DB, path="/var/backups/none/db-*.tar.gz")]),
        "restic-ok": ("sound", [RESTIC_SOURCE]),
        "restic-big": ("sound", [dict(RESTIC_SOURCE, min_size_bytes=10000)]),
        "restic-wrong-password": ("sound", [dict(RESTIC_SOURCE, password_file="/etc/hostname")]),
        "s3-ok": ("sound", [DB, s3_source(s3, "fresh")]),
        "s3-stale": ("sound", [s3_source(s3, "stale")]),
        "s3-no-bucket": ("sound", [s3_source(s3, "gone")]),
        "s3-stale-and-db-stale": ("stale", [DB, s3_source(s3, "gone")]),
        "wale-ok": ("etcd", [wale(s3, "db-wal")]),
        "wale-stale": ("etcd", [wale(s3, "db-wal-stale")]),
        "wale-no-etcd": ("sound", [wale(s3, "db-wal")]),
    }
    report = run_cases(lab, with_sources(cases), tmp_path_factory.mktemp("bak") / "inventory.yml", "FR-BAK")
    return {r["host"]: r for r in report["results"] if r["control"] == "FR-BAK-01"}


def test_sound_host_passes(results):
    assert results["sound"]["outcome"] == "pass", results["sound"]


def test_stale_backup_fails(results):
    assert results["stale"]["outcome"] == "fail"
    assert results["stale"]["message"] == "db: newest backup is 72.0 h old (max 26 h)"


def test_empty_backup_fails(results):
    assert results["empty"]["outcome"] == "fail"
    assert results["empty"]["message"] == "db: newest backup db-0.tar.gz is 0 bytes (min 1)"


def test_no_matching_backup_fails(results):
    assert results["missing"]["outcome"] == "fail"
    assert results["missing"]["message"] == "db: no backup matches /var/backups/none/db-*.tar.gz"


def test_restic_snapshot_judged_on_the_host(results):
    assert results["restic-ok"]["outcome"] == "pass", results["restic-ok"]
    assert results["restic-big"]["outcome"] == "fail"
    assert results["restic-big"]["message"].startswith("files: newest backup snapshot ")
    assert results["restic-big"]["message"].endswith(" is 5000 bytes (min 10000)")


def test_unreadable_restic_repository_is_an_error(results):
    result = results["restic-wrong-password"]
    assert result["outcome"] == "error"
    assert result["message"].startswith("files: cannot read backups: exit ")


def test_s3_bucket_read_from_the_controller(results):
    assert results["s3-ok"]["outcome"] == "pass", results["s3-ok"]
    assert results["s3-stale"]["outcome"] == "fail"
    assert results["s3-stale"]["message"] == "offsite: newest backup is 72.0 h old (max 26 h)"


def test_missing_bucket_is_an_error(results):
    result = results["s3-no-bucket"]
    assert result["outcome"] == "error"
    assert result["message"].startswith("offsite: cannot read backups: cannot list s3 bucket 'gone'")
    assert "NoSuchBucket" in result["message"]


def test_a_definite_finding_fails_even_beside_an_unreadable_source(results):
    result = results["s3-stale-and-db-stale"]
    assert result["outcome"] == "fail"
    assert result["message"].startswith("db: newest backup is 72.0 h old (max 26 h); offsite: cannot read")


def test_deis_wal_e_base_backups_with_credentials_from_etcd(results):
    assert results["wale-ok"]["outcome"] == "pass", results["wale-ok"]
    # Only finished base backups count: fresh WAL segments and partitions beside a stale one do not.
    assert results["wale-stale"]["outcome"] == "fail"
    assert results["wale-stale"]["message"] == "database: newest backup is 10.0 h old (max 6 h)"


def test_deis_wal_e_without_etcd_is_an_error(results):
    result = results["wale-no-etcd"]
    assert result["outcome"] == "error"
    assert result["message"].startswith("database: cannot read backups: deis facts of wale-no-etcd: etcd not answering")


def drilled(source, timeout=30):
    return dict(source, verify=True, verify_timeout=timeout)


@pytest.fixture(scope="module")
def drills(lab, s3, tmp_path_factory):
    """FR-BAK-02's results, and the sound host's fingerprint before and after its drills ran."""
    db, restic = drilled(DB), drilled(RESTIC_SOURCE)
    cases = {
        "sound": ("sound", None),  # the lab profile asks for no drill
        "drill-ok": ("sound", [db, restic, drilled(s3_source(s3, "fresh"))]),
        "drill-truncated": ("truncated", [db]),
        "drill-empty": ("empty", [db]),
        "drill-restic-damaged": ("sound", [dict(restic, repository="/srv/restic-damaged")]),
        # four restic commands, each deriving its key (restic tunes that to half a second)
        "drill-restic-timeout": ("sound", [drilled(RESTIC_SOURCE, timeout=1)]),
        "drill-restic-wrong-password": ("sound", [dict(restic, password_file="/etc/hostname")]),
        "drill-no-tool": ("sound", [dict(db, path="/var/backups/pg/db.dump")]),
        "drill-timeout": ("sound", [dict(drilled(DB, timeout=1), path="/var/backups/fifo/db.tar")]),
        "drill-missing": ("sound", [dict(db, path="/var/backups/none/db-*.tar.gz")]),
        "drill-s3-short": ("sound", [drilled(s3_source(s3, "short"))]),
        "drill-wale-ok": ("etcd", [drilled(wale(s3, "db-wal"))]),
        "drill-wale-no-data": ("etcd", [drilled(wale(s3, "db-wal-no-data"))]),
    }
    sound = lab.host("sound")
    before = fingerprint(sound) + sound.check(LEFT_BEHIND).splitlines()
    report = run_cases(lab, with_sources(cases), tmp_path_factory.mktemp("drill") / "inventory.yml", "FR-BAK-02")
    deadline = time.monotonic() + 30  # the run's login sessions end as its connections close
    while sessions(sound) and time.monotonic() < deadline:
        time.sleep(0.5)
    after = fingerprint(sound) + sound.check(LEFT_BEHIND).splitlines()
    return {r["host"]: r for r in report["results"] if r["control"] == "FR-BAK-02"}, before, after


# Where else a drill could leave something: the repositories (restic lock files) and backups.
LEFT_BEHIND = "find /srv /var/backups -xdev -printf '%p %y %m %s %T@\\n' | sort"


def test_drills_are_opt_in(drills):
    results, _, _ = drills
    assert results["sound"]["outcome"] == "skipped", results["sound"]
    assert "verify: true" in results["sound"]["message"], results["sound"]


def test_sound_backups_restore(drills):
    results, _, _ = drills
    result = results["drill-ok"]
    assert result["outcome"] == "pass", result
    evidence = result["evidence"]["restore_drills"]
    assert {name: d["verdict"] for name, d in evidence.items()} == {
        "db": "readable",
        "files": "readable",
        "offsite": "readable",
    }
    assert evidence["db"]["backup"] == "/var/backups/fleetready/db-0.tar.gz"
    assert evidence["files"]["detail"].startswith("restored /srv/data/blob sha256 ")
    assert evidence["offsite"]["backup"] == "nightly/db.dump (2048 bytes)"


def test_truncated_archive_fails(drills):
    results, _, _ = drills
    for name in ("drill-truncated", "drill-empty"):
        result = results[name]
        assert result["outcome"] == "fail", result
        assert result["message"].startswith(
            "db: newest backup /var/backups/fleetready/db-0.tar.gz is not restorable: gzip: "
        ), result["message"]
    assert "unexpected end of file" in results["drill-truncated"]["message"]


def test_damaged_restic_pack_fails(drills):
    results, _, _ = drills
    result = results["drill-restic-damaged"]
    assert result["outcome"] == "fail", result
    assert result["message"].startswith("files: newest backup snapshot "), result["message"]
    assert " is not restorable: " in result["message"]


def test_a_drill_that_cannot_run_is_an_error(drills):
    results, _, _ = drills
    assert results["drill-no-tool"]["outcome"] == "error"
    assert results["drill-no-tool"]["message"] == (
        "db: restore drill could not run: exit 127: pg_restore is not installed on the host"
    )
    assert results["drill-timeout"]["outcome"] == "error"
    assert results["drill-timeout"]["message"] == "db: restore drill could not run: did not finish within 1 s"
    result = results["drill-restic-timeout"]
    assert result["outcome"] == "error"
    assert result["message"] == "files: restore drill could not run: did not finish within 1 s"
    result = results["drill-restic-wrong-password"]
    assert result["outcome"] == "error"
    assert result["message"].startswith("files: restore drill could not run: cannot read backups: exit ")


def test_no_backup_to_restore_fails(drills):
    results, _, _ = drills
    assert results["drill-missing"]["outcome"] == "fail"
    assert results["drill-missing"]["message"] == "db: no backup to restore matches /var/backups/none/db-*.tar.gz"


def test_s3_object_shorter_than_its_listing_fails(drills):
    results, _, _ = drills
    result = results["drill-s3-short"]
    assert result["outcome"] == "fail", result
    assert result["message"] == (
        "offsite: newest backup is not restorable: nightly/db.dump reads back 2048 bytes, its listing says 4096"
    )


def test_wal_e_base_backup_read_back(drills):
    results, _, _ = drills
    assert results["drill-wale-ok"]["outcome"] == "pass", results["drill-wale-ok"]
    result = results["drill-wale-no-data"]
    assert result["outcome"] == "fail", result
    assert result["message"] == (
        "database: newest backup is not restorable: base backup "
        "basebackups_005/base_000000010000000000000002_00000040 has no tar partition"
    )


def test_drills_leave_nothing_on_the_host(drills):
    """The restic drills restored into a mktemp -d directory and removed it, the one stopped by
    its timeout too: the one difference allowed is the mtime of /tmp, where mktemp made it."""
    _, before, after = drills
    changed = set(after) ^ set(before)
    assert {line.split(" ", 1)[0] for line in changed} <= {"/tmp"}, sorted(changed)
