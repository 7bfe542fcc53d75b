"""The host answers and its facts can be gathered: every other requirement stands on this."""

import pytest


@pytest.mark.control(id="FR-HOST-01", severity="high", requirement="facts gathered")
def test_facts_gathered(facts):
    assert not facts.errors, "facts could not be gathered: " + "; ".join(
        f"{name}: {error}" for name, error in sorted(facts.errors.items())
    )
    assert facts["system"]["hostname"], "the host reported no hostname"
