"""Parser cases real hosts write that the lab does not: a commented-out RainerScript action,
restic snapshots written with different UTC offsets."""

import json

from fleetready.gather.facts_backups import restic_latest
from fleetready.gather.facts_logging import rsyslog_forwards

RSYSLOG = '''module(load="imfile")
/* the old drain, kept for reference:
*.* action(type="omfwd" target="old.lab" port="514" protocol="tcp")
*/
input(type="imfile" File="/var/log/app/*.log" Tag="app")
/* *.* @@old.lab:514 */
*.* action(type="omfwd" target="logs.lab" port="514" protocol="tcp")
'''


def test_a_forward_inside_a_block_comment_forwards_nothing():
    # The quoted "/var/log/app/*.log" opens no comment; line numbers survive the stripping.
    assert rsyslog_forwards(RSYSLOG, "/etc/rsyslog.d/50.conf") == [
        {"via": "rsyslog", "host": "logs.lab", "port": 514, "protocol": "tcp",
         "where": "/etc/rsyslog.d/50.conf:7"}]


def test_the_newest_restic_snapshot_is_the_latest_instant_not_the_largest_string():
    snapshots = [{"time": "2026-12-01T10:00:00.5+01:00", "id": "a" * 64, "short_id": "aaaaaaaa"},
                 {"time": "2026-12-01T09:30:00.123456789Z", "id": "b" * 64, "short_id": "bbbbbbbb"}]
    stdout = json.dumps(snapshots) + "\n" + json.dumps({"total_size": 42})
    when, short_id, size = restic_latest({"stdout": stdout})
    assert (short_id, size) == ("bbbbbbbb", 42)   # 09:30Z is after 10:00+01:00 (09:00Z)
    assert when == 1796117400.123456
