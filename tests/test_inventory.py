"""The inventory loader over real files: Ansible INI/YAML, vars directories, --limit, --hosts."""

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetready.config.errors import ConfigError
from fleetready.config.inventory import VarLayer, hosts_from_uris, load_inventory, local_host
from fleetready.config.yamlfile import load_yaml
from tests.files import write


def error(path):
    """The message load_inventory gives for `path`."""
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def by_name(inventory):
    return {h.name: h for h in inventory.hosts}


# ---------------------------------------------------------------- INI


def test_ini_groups_vars_children_ranges_and_ungrouped(tmp_path):
    path = write(
        tmp_path,
        "hosts.ini",
        """
        # comment
        ; another comment
        lonely ansible_host=10.0.0.9
        [web]
        web[01:03].example.com ansible_user=core
        db-[a:c:2] ansible_port=2222   # trailing comment
        [db]
        db1:2200 note="two words" ports="[22, 80]" policy="{'a': {'b': 1}}" flag=True ratio=0.5
        [deis:children]
        web
        db
        [deis:vars]
        fleetready_profile=deis-v1
        x = 1
        [all:vars]
        x=0
    """,
    )
    inventory = load_inventory(path)
    hosts = by_name(inventory)
    assert list(hosts) == [
        "lonely",
        "web01.example.com",
        "web02.example.com",
        "web03.example.com",
        "db-a",
        "db-c",
        "db1",
    ]
    assert hosts["lonely"].groups == ("all", "ungrouped")
    assert hosts["lonely"].address == "10.0.0.9"
    assert hosts["lonely"].vars == {"x": 0, "ansible_host": "10.0.0.9"}
    web = hosts["web02.example.com"]
    assert (web.address, web.user, web.port, web.connection) == ("web02.example.com", "core", None, "ssh")
    assert web.groups == ("all", "deis", "web")
    assert web.vars["x"] == 1 and web.vars["fleetready_profile"] == "deis-v1"
    assert hosts["db-c"].port == 2222
    db1 = hosts["db1"]
    assert db1.port == 2200
    assert db1.vars["note"] == "two words"
    assert db1.vars["ports"] == [22, 80]
    assert db1.vars["policy"] == {"a": {"b": 1}}
    assert db1.vars["flag"] is True and db1.vars["ratio"] == 0.5
    assert [layer.source for layer in db1.layers] == [f"{path}:15", f"{path}:12", f"{path}:8"]


def test_ungrouped_holds_only_hosts_of_no_other_group(tmp_path):
    path = write(tmp_path, "hosts", "h1\nh2\n[web]\nh2\n")
    assert [h.groups for h in load_inventory(path).hosts] == [("all", "ungrouped"), ("all", "web")]
    assert [h.name for h in load_inventory(path).select("ungrouped")] == ["h1"]


def test_ini_zero_padded_range_keeps_width(tmp_path):
    path = write(tmp_path, "hosts", "[web]\nnode[08:10]\n")
    assert [h.name for h in load_inventory(path).hosts] == ["node08", "node09", "node10"]


def test_ini_child_declared_before_its_section(tmp_path):
    path = write(tmp_path, "hosts", "[all_web:children]\nweb\n[web]\nw1\n")
    assert load_inventory(path).hosts[0].groups == ("all", "all_web", "web")


# Bounds of our own; the malformed forms Ansible refuses too are in tests/test_inventory_oracle.py.
@pytest.mark.parametrize(
    "text, line, message",
    [
        ("[web]\nw[1:99999999]\n", 2, "expands to more than 10000 hosts"),
        ("[web]\nw[1:100][1:200]\n", 2, "expands to more than 10000 hosts"),
        ("[web]\nw" + "[1:1]" * 300 + "\n", 2, "longer than 1024 characters"),
        (
            "[g0]\nh1\n" + "".join(f"[g{i}:children]\ng{i - 1}\n" for i in range(1, 3000)),
            None,
            "groups are nested too deeply",
        ),
    ],
)
def test_ini_limits_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "hosts.ini", text)
    got = error(path)
    assert got.startswith(f"{path}:{line}: " if line else f"{path}: ")
    assert message in got


def test_ini_non_utf8_and_binary(tmp_path):
    assert (
        error(write(tmp_path, "latin.ini", b"[web]\nw1\ncaf\xe9\n")) == f"{tmp_path}/latin.ini:3: not valid UTF-8 text"
    )
    assert (
        error(write(tmp_path, "bin.ini", b"w1\n\x00\x01\x02"))
        == f"{tmp_path}/bin.ini:2: binary data (NUL byte), expected a text file"
    )


def test_empty_inventory_is_an_error(tmp_path):
    assert (
        error(write(tmp_path, "hosts.ini", "# nothing\n[web]\n"))
        == f"{tmp_path}/hosts.ini: the inventory defines no hosts"
    )


def test_missing_inventory(tmp_path):
    assert error(tmp_path / "nope.ini").startswith(f"{tmp_path}/nope.ini: cannot read: No such file")


# ---------------------------------------------------------------- YAML


def test_yaml_inventory(tmp_path):
    path = write(
        tmp_path,
        "hosts.yml",
        """
        all:
          hosts:
            solo:
          vars:
            level: all
          children:
            web:
              hosts:
                web[1:2]:
                  ansible_host: 10.0.0.1
                  level: host
              vars:
                level: web
            db:
              hosts: db1:2222
            empty:
    """,
    )
    hosts = by_name(load_inventory(path))
    assert list(hosts) == ["solo", "web1", "web2", "db1"]
    assert hosts["solo"].groups == ("all", "ungrouped")
    assert hosts["solo"].vars == {"level": "all"}
    assert hosts["web1"].vars["level"] == "host" and hosts["web1"].address == "10.0.0.1"
    assert hosts["db1"].port == 2222 and hosts["db1"].groups == ("all", "db")
    assert [layer.source for layer in hosts["web2"].layers] == [f"{path}:4", f"{path}:12", f"{path}:9"]


@pytest.mark.parametrize(
    "text, line, message",
    [
        (
            "all:\n  hosts:\n    h1:\n  childs:\n    web:\n",
            4,
            "all.childs: unknown key 'childs'; did you mean 'children'?",
        ),
        ("all:\n  vars: [1, 2]\n", 2, "all.vars: expected a mapping, got a list"),
        (
            "all:\n  hosts:\n    h1: just-a-string\n",
            3,
            "all.hosts.h1: expected a mapping of host variables, got 'just-a-string'",
        ),
        ("web: [h1]\n", 1, "web: expected a mapping of hosts, vars and children, got a list"),
        ("all:\n  hosts:\n    h1:\n   bad: indent\n", 4, "while parsing a block mapping: did not find expected key"),
        ("all:\n  hosts: h1: x\n", 2, "mapping values are not allowed in this context (column 12)"),
        ("all:\n  hosts:\n    h1:\n    h1:\n", 4, "duplicate key 'h1'"),
        (
            "all:\n  hosts:\n    h1:\n      ansible_port: ssh\n",
            4,
            "ansible_port: host h1: expected a port number (1-65535), got 'ssh'",
        ),
        ("- h1\n", 1, "expected a mapping at the top level, got a list"),
    ],
)
def test_yaml_errors_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "hosts.yml", text)
    got = error(path)
    assert got.startswith(f"{path}:{line}: ")
    assert message in got


def test_yaml_empty_and_binary(tmp_path):
    assert (
        error(write(tmp_path, "empty.yml", "# nothing\n"))
        == f"{tmp_path}/empty.yml: file is empty, expected a YAML mapping"
    )
    assert error(write(tmp_path, "junk.yml", b"\xff\xd8\xff\xe0junk")) == f"{tmp_path}/junk.yml:1: not valid UTF-8 text"
    assert error(write(tmp_path, "ctl.yml", "all:\n  hosts: \x07\n")).startswith(
        f"{tmp_path}/ctl.yml:2: unacceptable character"
    )


def test_yaml_file_too_large(tmp_path):
    path = write(tmp_path, "big.yml", b"#" * (5 * 1024 * 1024 + 1))
    assert error(path) == f"{path}: file is larger than 5 MB"


def test_yamlfile_remembers_lines_and_merge_keys(tmp_path):
    path = write(
        tmp_path,
        "x.yml",
        """
        base: &base
          a: 1
          b: 2
        derived:
          <<: *base
          b: 3
          list:
            - one
            - two
    """,
    )
    data = load_yaml(path)
    assert data == {"base": {"a": 1, "b": 2}, "derived": {"a": 1, "b": 3, "list": ["one", "two"]}}
    assert data.source == str(path) and data.line_of("derived") == 4
    assert data["derived"].line_of("b") == 6
    assert data["derived"]["list"].line_of(1) == 9
    assert data["derived"].line_of("missing") == data["derived"].line == 5


# ---------------------------------------------------------------- host_vars/ and group_vars/


def test_vars_files_in_every_form_and_precedence(tmp_path):
    path = write(
        tmp_path,
        "inv/hosts",
        """
        [parent:children]
        child
        [child]
        h1 from_host_line=1 order=host-line
        [child:vars]
        order=child-ini
        [parent:vars]
        order=parent-ini
        [all:vars]
        order=all-ini
    """,
    )
    write(tmp_path, "inv/group_vars/all", "order: all-file\nfrom_all: 1\n")
    write(tmp_path, "inv/group_vars/parent.yaml", "order: parent-file\n")
    write(tmp_path, "inv/group_vars/child/10-first.yml", "order: child-dir-1\n")
    write(tmp_path, "inv/group_vars/child/20-second.json", '{"order": "child-dir-2", "json": true}')
    write(tmp_path, "inv/group_vars/child/.hidden.yml", "order: hidden\n")
    write(tmp_path, "inv/group_vars/child/empty.yml", "")
    write(tmp_path, "inv/group_vars/unrelated.yml", "order: never\n")
    write(tmp_path, "inv/host_vars/h1.yml", "order: host-file\n")
    host = load_inventory(path).hosts[0]
    base = tmp_path / "inv"
    assert [layer.source for layer in host.layers] == [
        f"{path}:9",
        f"{path}:7",
        f"{path}:5",
        f"{base}/group_vars/all",
        f"{base}/group_vars/parent.yaml",
        f"{base}/group_vars/child/10-first.yml",
        f"{base}/group_vars/child/20-second.json",
        f"{path}:4",
        f"{base}/host_vars/h1.yml",
    ]
    assert [layer.vars["order"] for layer in host.layers] == [
        "all-ini",
        "parent-ini",
        "child-ini",
        "all-file",
        "parent-file",
        "child-dir-1",
        "child-dir-2",
        "host-line",
        "host-file",
    ]
    assert host.vars["order"] == "host-file"
    assert host.vars["from_all"] == 1 and host.vars["json"] is True and host.vars["from_host_line"] == 1
    assert all(isinstance(layer, VarLayer) for layer in host.layers)


def test_group_priority_and_name_order(tmp_path):
    path = write(
        tmp_path,
        "hosts",
        """
        [alpha]
        h1
        [beta]
        h1
        [gamma]
        h1
        [alpha:vars]
        who=alpha
        ansible_group_priority=10
        [beta:vars]
        who=beta
        [gamma:vars]
        who=gamma
    """,
    )
    host = load_inventory(path).hosts[0]
    assert host.groups == ("all", "beta", "gamma", "alpha")
    assert host.vars["who"] == "alpha"


def test_bad_vars_file_is_located(tmp_path):
    path = write(tmp_path, "hosts", "[web]\nw1\n")
    write(tmp_path, "group_vars/web.yml", "a: 1\n  b: 2\n")
    assert error(path).startswith(f"{tmp_path}/group_vars/web.yml:2: mapping values are not allowed in this context")
    write(tmp_path, "group_vars/web.yml", "- a\n")
    assert error(path) == f"{tmp_path}/group_vars/web.yml:1: expected a mapping at the top level, got a list"


def test_vars_directory_loop_and_fifo_are_errors_not_hangs(tmp_path):
    path = write(tmp_path, "hosts", "[web]\nw1\n")
    (tmp_path / "group_vars" / "web").mkdir(parents=True)
    (tmp_path / "group_vars" / "web" / "again").symlink_to(".")
    assert error(path) == f"{tmp_path}/group_vars/web/again: directory contains itself through a symlink"
    (tmp_path / "group_vars" / "web" / "again").unlink()
    (tmp_path / "host_vars").mkdir()
    os.mkfifo(tmp_path / "host_vars" / "w1.yml")
    assert error(path) == f"{tmp_path}/host_vars/w1.yml: not a regular file or directory"


def test_file_without_extension_that_is_yaml_gets_yaml_errors(tmp_path):
    path = write(tmp_path, "hosts", "all:\n  hosts:\n    h1:\n    h1:\n")
    assert error(path).startswith(f"{path}:4: duplicate key 'h1'")


def test_bad_group_priority(tmp_path):
    path = write(tmp_path, "hosts", "[web]\nw1\n[web:vars]\nansible_group_priority=high\n")
    assert error(path) == f"{path}:4: ansible_group_priority: expected an integer, got 'high'"


# ---------------------------------------------------------------- connection variables


def test_connection_variables(tmp_path):
    path = write(
        tmp_path,
        "hosts",
        """
        a ansible_host=192.0.2.1 ansible_port=2222 ansible_user=core ansible_connection=smart
        b ansible_connection=docker ansible_ssh_private_key_file=/keys/b
        c ansible_ssh_host=192.0.2.3 ansible_ssh_port="22" ansible_ssh_user=old
        d ansible_connection=local
        e ansible_connection=paramiko
    """,
    )
    hosts = by_name(load_inventory(path))
    assert (hosts["a"].address, hosts["a"].port, hosts["a"].user, hosts["a"].connection) == (
        "192.0.2.1",
        2222,
        "core",
        "ssh",
    )
    assert hosts["b"].connection == "docker" and hosts["b"].address == "b"
    assert hosts["b"].vars["ansible_ssh_private_key_file"] == "/keys/b"
    assert (hosts["c"].address, hosts["c"].port, hosts["c"].user) == ("192.0.2.3", 22, "old")
    assert hosts["d"].connection == "local" and hosts["e"].connection == "paramiko"


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "h1 ansible_connection=winrm",
            "ansible_connection: host h1: unsupported connection 'winrm'; expected one of ssh, paramiko, docker, local",
        ),
        ("h1 ansible_port=70000", "ansible_port: host h1: expected a port number (1-65535), got 70000"),
        ("h1 ansible_port=True", "ansible_port: host h1: expected a port number (1-65535), got true"),
        ("h1 ansible_user=[1]", "ansible_user: host h1: expected a non-empty string, got a list"),
    ],
)
def test_bad_connection_variables(tmp_path, line, message):
    path = write(tmp_path, "hosts", f"[web]\n{line}\n")
    assert error(path) == f"{path}:2: {message}"


def test_bad_connection_variable_in_group_vars_names_that_file(tmp_path):
    path = write(tmp_path, "hosts", "[web]\nh1\n")
    write(tmp_path, "group_vars/web.yml", "x: 1\nansible_port: [22]\n")
    assert (
        error(path) == f"{tmp_path}/group_vars/web.yml:2: ansible_port: host h1: "
        "expected a port number (1-65535), got a list"
    )


# ---------------------------------------------------------------- --limit


@pytest.fixture
def fleet(tmp_path):
    return load_inventory(
        write(
            tmp_path,
            "hosts",
            """
        [web]
        web1
        web2
        [db]
        db1
        web2
        [prod:children]
        web
        db
        [staging]
        stage1
        [empty]
    """,
        )
    )


@pytest.mark.parametrize(
    "pattern, names",
    [
        (None, ["web1", "web2", "db1", "stage1"]),
        ("", ["web1", "web2", "db1", "stage1"]),
        ("all", ["web1", "web2", "db1", "stage1"]),
        ("*", ["web1", "web2", "db1", "stage1"]),
        ("db1", ["db1"]),
        ("web", ["web1", "web2"]),
        ("stage1,db", ["web2", "db1", "stage1"]),
        ("stage1:db", ["web2", "db1", "stage1"]),
        ("prod:!db", ["web1"]),
        ("prod,!web2", ["web1", "db1"]),
        ("web:&db", ["web2"]),
        ("!staging", ["web1", "web2", "db1"]),
        ("web*", ["web1", "web2"]),
        ("st*", ["stage1"]),
        ("~(web|db)1", ["web1", "db1"]),
        ("empty,db1", ["db1"]),
    ],
)
def test_select(fleet, pattern, names):
    assert [h.name for h in fleet.select(pattern)] == names


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("webx", "no host matches --limit 'webx': unknown host or group 'webx'"),
        ("web,nope", "no host matches --limit 'web,nope': unknown host or group 'nope'"),
        ("web:!nope", "no host matches --limit 'web:!nope': unknown host or group 'nope'"),
        ("zz*", "unknown host or group 'zz*'"),
        ("web:&staging", "no host matches --limit 'web:&staging'"),
        ("empty", "no host matches --limit 'empty'"),
        ("~(", "bad regular expression '~('"),
    ],
)
def test_select_errors(fleet, pattern, message):
    with pytest.raises(ConfigError) as info:
        fleet.select(pattern)
    assert str(info.value).startswith(f"{fleet.source}: ")
    assert message in str(info.value)


# ---------------------------------------------------------------- --hosts and local


def test_hosts_from_uris():
    hosts = hosts_from_uris(
        "ssh://root@10.0.0.1:2222,docker://c1,local://,paramiko://u@h, ssh://k?ssh_identity_file=/keys/k&sudo=true,bare"
    )
    summary = [(h.name, h.address, h.port, h.user, h.connection) for h in hosts]
    assert summary == [
        ("10.0.0.1", "10.0.0.1", 2222, "root", "ssh"),
        ("c1", "c1", None, None, "docker"),
        ("local", "local", None, None, "local"),
        ("h", "h", None, "u", "paramiko"),
        ("k", "k", None, None, "ssh"),
        ("bare", "bare", None, None, "paramiko"),
    ]
    assert hosts[4].vars["ansible_ssh_private_key_file"] == "/keys/k"
    assert hosts[4].vars["ansible_become"] is True
    assert hosts[0].layers[0].source == "--hosts"


@pytest.mark.parametrize(
    "uris, message",
    [
        (
            "winrm://x",
            "--hosts: winrm://x: unsupported connection 'winrm'; expected one of ssh, paramiko, docker, local",
        ),
        ("ssh://", "--hosts: ssh://: missing host name"),
        ("ssh://h:99999", "--hosts: ssh://h:99999: expected a port number (1-65535), got '99999'"),
        ("ssh://a,docker://a", "--hosts: host 'a' is given twice"),
        (" , ", "--hosts: no host given"),
        ("ssh://[::1", "--hosts: ssh://[::1: Invalid IPv6 URL"),
        ("ssh://h;id", "--hosts: ssh://h;id: 'h;id' is not a host name or IP address"),
        (
            "paramiko://-oProxyCommand=id",
            "--hosts: paramiko://-oProxyCommand=id: '-oProxyCommand=id' is not a host name or IP address",
        ),
    ],
)
def test_hosts_from_uris_errors(uris, message):
    with pytest.raises(ConfigError) as info:
        hosts_from_uris(uris)
    assert str(info.value) == message


def test_local_host():
    host = local_host()
    assert (host.name, host.connection, host.port, host.user) == ("local", "local", None, None)
    assert host.groups == ("all", "ungrouped")


def test_example_inventories_agree():
    ini, yml = load_inventory("inventories/example.ini"), load_inventory("inventories/example.yml")

    def summary(inv):
        return sorted((h.name, h.address, h.port, h.user, h.connection, h.groups) for h in inv.hosts)

    assert summary(ini) == summary(yml)
    assert len(ini.select("deis")) == 3


# ---------------------------------------------------------------- never a traceback

_counter = itertools.count()
_junk = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ini_text = st.lists(
    st.sampled_from(
        [
            "[web]",
            "[web:vars]",
            "[web:children]",
            "[db]",
            "[x:y]",
            "h1",
            "h[1:3]",
            "h:22",
            "a=1",
            "h1 a=1",
            "h1 a",
            "db",
            "[a b]",
            "# c",
            "",
            "h2 p='x",
            "ansible_port=0",
            "h1 ansible_connection=x",
        ]
    )
    | st.text(max_size=20),
    max_size=12,
).map("\n".join)
_yaml_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["hosts", "vars", "children"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["all", "hosts", "vars", "children", "h1", "g", "ansible_port", "ansible_connection"])
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def _only_config_errors(path):
    try:
        load_inventory(path)
    except ConfigError as e:
        assert "\n" not in str(e)


@_junk
@given(data=st.binary(max_size=300))
def test_any_bytes_give_config_error_or_inventory(tmp_path_factory, data):
    base = tmp_path_factory.mktemp("junk")
    for name in ("hosts.ini", "hosts.yml"):
        path = base / name
        path.write_bytes(data)
        _only_config_errors(path)


@_junk
@given(text=_ini_text | st.text(max_size=200))
def test_any_ini_text_gives_config_error_or_inventory(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("ini") / f"hosts{next(_counter)}"
    path.write_text(text)
    _only_config_errors(path)


@_junk
@given(data=_yaml_text)
def test_any_yaml_shape_gives_config_error_or_inventory(tmp_path_factory, data):
    import yaml

    path = tmp_path_factory.mktemp("yml") / "hosts.yml"
    path.write_text(yaml.safe_dump(data))
    _only_config_errors(path)


@_junk
@given(pattern=st.text(max_size=30), uris=st.text(max_size=40))
def test_any_limit_or_uris_give_config_error(fleet_factory, pattern, uris):
    for call, arg in ((fleet_factory.select, pattern), (hosts_from_uris, uris)):
        try:
            call(arg)
        except ConfigError as e:
            assert "\n" not in str(e)


@pytest.fixture(scope="module")
def fleet_factory(tmp_path_factory):
    path = tmp_path_factory.mktemp("fleet") / "hosts"
    path.write_text("[web]\nweb1\nweb2\n[db]\ndb1\n")
    return load_inventory(path)
