"""fleetready/rerun.py on pytest itself: an item attempted more than once gets fresh
function-scoped fixtures each time and is reported once, with its last attempt's outcome."""

import xml.etree.ElementTree as ET

pytest_plugins = ["pytester"]


def test_an_item_attempted_until_it_passes_is_reported_once_with_its_last_outcome(pytester):
    pytester.makeconftest("""
        from fleetready.rerun import attempt, protocol

        def pytest_runtest_protocol(item, nextitem):
            def until_passed():
                for _ in range(3):
                    reports = attempt(item, nextitem)
                    if all(r.passed for r in reports):
                        break
                return reports
            return protocol(item, until_passed)
    """)
    pytester.makepyfile("""
        import pytest

        made, torn = [], []

        @pytest.fixture
        def fresh():
            made.append(object())
            yield made[-1]
            torn.append(made[-1])

        def test_converges(fresh):
            assert fresh is made[-1] and len(made) == 3 and torn == made[:2]

        def test_broken():
            assert False
    """)
    result = pytester.runpytest_inprocess("--junitxml=junit.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    cases = ET.parse(pytester.path / "junit.xml").iter("testcase")
    assert [(c.get("name"), [e.tag for e in c]) for c in cases] == [
        ("test_converges", []),
        ("test_broken", ["failure"]),
    ]
