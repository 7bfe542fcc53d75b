"""The archive restore drill (sh/drill.sh fr_drill_archive) on real archives on this machine,
sent as a host gets it, and how the judge words each verdict. The restic and S3 drills, and
every drill against lab hosts, are in tests/test_check_backups.py."""

import gzip
import io
import subprocess
import tarfile

import pytest

from fleetready.gather import shell
from fleetready.judge.backups import BackupError, drill_finding
from fleetready.probe.backup_drill import Drill

SOURCE = {"name": "db", "kind": "path", "path": "/b/db-*.tar.gz"}


def tar_gz(size=20000):
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        info = tarfile.TarInfo("db.data")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(range(256)) * (size // 256) + bytes(size % 256)))
    return data.getvalue()


def drill(path):
    sent = shell.command(shell.script("drill.sh"), "fr_drill_archive", path, timeout=10)
    return subprocess.run(sent, shell=True, capture_output=True, text=True)


@pytest.mark.parametrize(
    "name, content, rc",
    [
        ("db.tar.gz", tar_gz(), 0),
        ("db.tgz", tar_gz()[:-40], 1),  # truncated
        ("db.tar.gz", gzip.compress(b"not a tar archive" * 64, mtime=0), 1),  # a gzip, but no tar inside
        ("db.tar.gz", b"", 1),
        ("db.sql.gz", gzip.compress(b"select 1;\n", mtime=0), 0),
        ("db.sql.gz", gzip.compress(b"select 1;\n", mtime=0)[:-3], 1),
        ("db.tar", gzip.decompress(tar_gz()), 0),
        ("db.bak", b"what format?", 3),
    ],
)
def test_archive_drill(tmp_path, name, content, rc):
    path = tmp_path / name
    path.write_bytes(content)
    ran = drill(str(path))
    assert ran.returncode == rc, (ran.stdout, ran.stderr)


def test_unreadable_archive_cannot_be_drilled(tmp_path):
    ran = drill(str(tmp_path / "gone.tar.gz"))
    assert (ran.returncode, ran.stderr) == (3, f"cannot read {tmp_path}/gone.tar.gz\n")


def test_judge_words_each_verdict():
    assert drill_finding(SOURCE, Drill("readable", "/b/db-1.tar.gz", "", 0.1)) is None
    assert drill_finding(SOURCE, Drill("no backup", None, "", 0.1)) == "no backup to restore matches /b/db-*.tar.gz"
    assert (
        drill_finding(SOURCE, Drill("unreadable", "/b/db-1.tar.gz", "gzip: unexpected end of file", 0.1))
        == "newest backup /b/db-1.tar.gz is not restorable: gzip: unexpected end of file"
    )
    with pytest.raises(BackupError, match="^restore drill could not run: did not finish within 1 s$"):
        drill_finding(SOURCE, Drill("not run", "/b/db-1.tar.gz", "did not finish within 1 s", 1.0))
