"""The waivers loader fed arbitrary bytes and arbitrary YAML: it loads or raises ConfigError
(one line), never anything else (inventory and profiles: tests/test_inventory.py, test_profiles.py)."""

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.waivers import load_waivers
from fleetready.config.errors import ConfigError

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.dates().map(str))
KEYS = st.sampled_from(["control", "check", "scope", "reason", "owner", "expires", "waivers", "x"])
DOCS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), inner, max_size=6)
    ),
    max_leaves=20,
)


def loads_or_config_error(path):
    try:
        load_waivers(str(path))
    except ConfigError as exc:
        assert "\n" not in str(exc).strip() and str(path) in str(exc)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("w") / "waivers.yml"
    path.write_bytes(data)
    loads_or_config_error(path)


@settings(max_examples=300, deadline=None)
@given(doc=st.fixed_dictionaries({"waivers": st.lists(DOCS, max_size=3)}) | DOCS)
def test_any_yaml(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("w") / "waivers.yml"
    path.write_text(yaml.safe_dump(doc))
    loads_or_config_error(path)
