"""Run a check more than once inside one pytest_runtest_protocol and report it once.

--retry-timeout (fixtures/retry.py) re-checks until a deadline and --remediate apply
(remediations/plugin.py) re-checks after a fix. Both run the item's setup, call and teardown
as often as they need (attempt) and log only the reports of the attempt that stands, between
one logstart and one logfinish (protocol), so every report (terminal, JSON, JUnit) has one
result per (host, check): the final one.
"""

# Private, and the only private pytest API of the rerun: pytest has no public way to run an
# item again. A second run needs a new FixtureRequest (Item._initrequest, private) for fresh
# function-scoped fixtures; runtestprotocol makes it when an item runs again (its own comment
# names pytest-rerunfailures, which calls it too) and runs setup, call and teardown as
# pytest's own protocol does (--setup-only, --pdb, a stopping session), which the public
# hooks (pytest_runtest_setup/call/teardown, pytest.CallInfo, pytest_runtest_makereport)
# would only copy.
from _pytest.runner import runtestprotocol


def attempt(item, nextitem):
    """One run of the item (setup, call, teardown) on fresh function-scoped fixtures: its
    reports, not logged."""
    return runtestprotocol(item, nextitem=nextitem, log=False)


def protocol(item, run):
    """pytest_runtest_protocol around run(), which attempts the item as often as it needs and
    returns the reports to log: only those are, between one logstart and one logfinish."""
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in run():
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
