"""Parser cases real hosts write that the lab does not: a commented-out RainerScript action,
restic snapshots written with different UTC offsets, metrics bodies (odd but valid, broken,
hostile)."""

import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fleetready.gather.facts_backups import restic_latest
from fleetready.gather.facts_logging import rsyslog_forwards
from fleetready.gather.facts_monitoring import MAX_BODY, judge_body

RSYSLOG = """module(load="imfile")
/* the old drain, kept for reference:
*.* action(type="omfwd" target="old.lab" port="514" protocol="tcp")
*/
input(type="imfile" File="/var/log/app/*.log" Tag="app")
/* *.* @@old.lab:514 */
*.* action(type="omfwd" target="logs.lab" port="514" protocol="tcp")
"""


def test_a_forward_inside_a_block_comment_forwards_nothing():
    # The quoted "/var/log/app/*.log" opens no comment; line numbers survive the stripping.
    assert rsyslog_forwards(RSYSLOG, "/etc/rsyslog.d/50.conf") == [
        {"via": "rsyslog", "host": "logs.lab", "port": 514, "protocol": "tcp", "where": "/etc/rsyslog.d/50.conf:7"}
    ]


def test_the_newest_restic_snapshot_is_the_latest_instant_not_the_largest_string():
    snapshots = [
        {"time": "2026-12-01T10:00:00.5+01:00", "id": "a" * 64, "short_id": "aaaaaaaa"},
        {"time": "2026-12-01T09:30:00.123456789Z", "id": "b" * 64, "short_id": "bbbbbbbb"},
    ]
    stdout = json.dumps(snapshots) + "\n" + json.dumps({"total_size": 42})
    when, short_id, size = restic_latest({"stdout": stdout})
    assert (short_id, size) == ("bbbbbbbb", 42)  # 09:30Z is after 10:00+01:00 (09:00Z)
    assert when == 1796117400.123456


# Valid text format, odd where exporters are: escapes, spacing, special values, timestamps,
# names declared by TYPE and HELP alone. No counter: prometheus_client renames its samples.
METRICS = """# HELP node_up 1 if the exporter "answers" \\ at all.
# TYPE node_up gauge
node_up 1
# a comment, not a declaration
node_load1{cpu="0"} .25
node_filesystem_free_bytes { device = "sd\\"a\\"" , mountpoint="/a\\\\b\\n",} 1.5e+09 1712345678000
go_info{version="go1.22"}  1
# TYPE request_seconds histogram
request_seconds_bucket{le="+Inf"} 3
request_seconds_sum 1.
request_seconds_count -Inf
temperature_celsius NaN
# TYPE declared_only gauge

scrape_duration_seconds{} +3.5E-2 -42
"""


def test_metric_names_agree_with_prometheus_client():
    """The library is the oracle on valid text (it is too slow to parse bodies itself)."""
    library = {
        name
        for family in text_string_to_metric_families(METRICS)
        for name in (family.name, *(sample.name for sample in family.samples))
    }
    assert judge_body(METRICS) == {"metrics": sorted(library)}
    assert "declared_only" in library


@pytest.mark.parametrize(
    "body, why",
    [
        ("", "no metrics in the body"),
        ("# just a comment\n\n", "no metrics in the body"),
        ("<html>metrics</html>\n", "line 1: '<html>metrics</html>'"),
        ("node_up 1\n# TYPE node_up\n", "line 2: '# TYPE node_up'"),
        ('node_up 1\nnode_load1{cpu="0} 1\n', "line 2: 'node_load1{cpu=\"0} 1'"),
        ("node_up one\n", "line 1: 'node_up one'"),
    ],
)
def test_a_body_that_is_not_text_format_names_its_first_bad_line(body, why):
    assert judge_body(body) == {"format_error": why}


@pytest.mark.parametrize(
    "line",
    [
        "x " + "1" * MAX_BODY + "a",
        "x" + " " * MAX_BODY + "1 a",
        'x{a="' + "b" * MAX_BODY + '"} 1a',
        "x 1 " + "1" * MAX_BODY + "a",
    ],
)
def test_a_hostile_body_is_judged_in_linear_time(line):
    # A backtracking pattern took a minute on 20 KiB of one of these lines; a bound, not a speed.
    started = time.monotonic()
    assert judge_body(line + "\n")["format_error"].startswith("line 1: ")
    assert time.monotonic() - started < 10
