"""--shard I/N: every host in exactly one shard, and a host's shard does not move."""

import pytest

from fixtures.targets import shard
from fleetready.config.errors import ConfigError
from fleetready.config.inventory import load_inventory
from tests.files import write


@pytest.fixture
def hosts(tmp_path):
    inventory = write(tmp_path, "inv.ini", "[web]\nweb[001:200].example.com\n[db]\ndb[1:37]\n")
    return load_inventory(str(inventory)).select(None)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_shards_cover_every_host_exactly_once(hosts, count):
    shards = [shard(hosts, f"{i}/{count}") for i in range(1, count + 1)]
    names = [t.name for part in shards for t in part]
    assert sorted(names) == sorted(t.name for t in hosts)
    assert len(names) == len(set(names))
    if count > 1:  # roughly even: no shard holds twice its share
        assert max(len(part) for part in shards) < 2 * len(hosts) / count


def test_a_hosts_shard_does_not_move_when_the_inventory_changes(hosts):
    before = {t.name for t in shard(hosts, "2/4")}
    after = {t.name for t in shard(hosts[:150], "2/4")}
    assert after == before & {t.name for t in hosts[:150]}


@pytest.mark.parametrize("spec", ["0/3", "4/3", "x/3", "1", "1/0", ""])
def test_bad_shard_spec_is_a_clear_error(hosts, spec):
    with pytest.raises(ConfigError, match="expected I/N"):
        shard(hosts, spec)
