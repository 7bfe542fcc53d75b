"""A check without a control marker: bad input, refused when the checks are collected."""


def test_without_control(facts):
    assert False, "never judged: the run stops at collection"
