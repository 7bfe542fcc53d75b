"""The typed models of the facts held to real hosts: each collector's value on every recorded
host (tests/data/gather, parsed as a run parses it) has exactly the keys, nested ones too, and
the value types that the return type of its parse() declares. mypy checks the code against
those models; this checks the models against what hosts give, so neither can drift."""

import inspect
import types
import typing

import pytest

from fleetready.gather import facts_backups, facts_deis
from fleetready.gather.facts import COLLECTORS
from tests.test_fast_gather import HOSTS, facts

DEIS_OWN_KEYS = {"release_file": str | None, "preseed_script": bool}


def model(collector):
    return inspect.signature(collector.parse).return_annotation


def problems(value, expected, where):
    """How value is not of the type `expected`, one line each (none: it is)."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if expected is typing.Any:
        return []
    if typing.is_typeddict(expected):
        if type(value) is not dict:
            return [f"{where}: {type(value).__name__}, not a {expected.__name__}"]
        declared = typing.get_type_hints(expected)  # NotRequired[X] as X
        found = [f"{where}: no {key!r}" for key in sorted(expected.__required_keys__ - value.keys())]
        found += [f"{where}: {key!r} undeclared" for key in sorted(value.keys() - declared.keys())]
        for key in sorted(value.keys() & declared.keys()):
            found += problems(value[key], declared[key], f"{where}.{key}")
        return found
    if origin is types.UnionType:
        return [] if any(not problems(value, arg, where) for arg in args) else [f"{where}: {value!r} is not {expected}"]
    if origin in (list, dict, tuple) and type(value) is not origin:
        return [f"{where}: {type(value).__name__}, not a {origin.__name__}"]
    if origin is list:
        return [p for i, item in enumerate(value) for p in problems(item, args[0], f"{where}[{i}]")]
    if origin is dict:
        return [
            p
            for key, item in value.items()
            for p in problems(key, args[0], f"{where} key {key!r}") + problems(item, args[1], f"{where}[{key!r}]")
        ]
    if origin is tuple:
        if len(value) != len(args):
            return [f"{where}: {len(value)} items, not {len(args)}"]
        return [
            p
            for i, (item, arg) in enumerate(zip(value, args, strict=True))
            for p in problems(item, arg, f"{where}[{i}]")
        ]
    # `type(...) is`: a bool is an int to isinstance, never to a model.
    return [] if type(value) is expected else [f"{where}: {value!r} is a {type(value).__name__}, not {expected}"]


@pytest.mark.parametrize("name", HOSTS)
def test_every_collectors_value_is_its_model(name):
    gathered = facts(name).values
    assert gathered
    for collector in COLLECTORS:
        if collector.NAME in gathered:
            assert problems(gathered[collector.NAME], model(collector), f"{name} {collector.NAME}") == []


def test_every_collector_declares_its_model():
    for collector in COLLECTORS:
        assert model(collector) is not inspect.Signature.empty, f"{collector.NAME}.parse() declares no model"


def test_deis_facts_are_etcd_keys_and_two_of_the_host():
    """DeisFacts is a dict (facts_deis.py says why): its fixed keys are held here."""
    assert model(facts_deis) == dict[str, typing.Any]
    deis_hosts = [name for name in HOSTS if "deis" in facts(name).values]
    assert deis_hosts
    for name in deis_hosts:
        settings = facts(name)["deis"]
        assert problems({k: v for k, v in settings.items() if k not in DEIS_OWN_KEYS}, dict[str, str], name) == []
        assert all(key.startswith("/deis/") for key in settings.keys() - DEIS_OWN_KEYS)
        for key, expected in DEIS_OWN_KEYS.items():
            assert problems(settings[key], expected, f"{name} deis.{key}") == []
    assert any(key.startswith("/deis/") for name in deis_hosts for key in facts(name)["deis"])


def test_a_value_off_its_model_is_told():
    value = {"now": True, "sources": {"0": {"rc": 0, "stdout": "", "stderr": None, "extra": 1}}}
    assert problems(value, facts_backups.BackupsFacts, "h") == [
        "h.now: True is a bool, not <class 'int'>",
        "h.sources key '0': '0' is a str, not <class 'int'>",
        "h.sources['0']: 'extra' undeclared",
        "h.sources['0'].stderr: None is a NoneType, not <class 'str'>",
    ]
    assert problems({"sources": {}}, facts_backups.BackupsFacts, "h") == ["h: no 'now'"]
    assert problems([("::", "22")], list[tuple[str, int]], "h") == ["h[0][1]: '22' is a str, not <class 'int'>"]
