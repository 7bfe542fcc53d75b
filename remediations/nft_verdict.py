"""What an nftables ruleset (`nft -j list ruleset`) does with a new connection from another
host: `verdict(ruleset, protocol, port, source)` is "accept", "drop" or "unknown".

The packet: the first packet of a connection (ct state new) to `port` over `protocol` (tcp or
udp), from `source` (an address, or None: any host), arriving on an interface other than
loopback. Every input-hook filter chain must accept it (a drop in any is final). Rules are
followed in order through jumps, gotos and returns, collecting every verdict the packet could
get: a rule that cannot be decided for it (an interface name, a rate limit, an unknown
expression) may or may not apply, so the answer is "unknown" unless every path agrees. The
ruleset is judged only as far as it can be proven.
"""

import ipaddress

ACCEPT, DROP, UNKNOWN = "accept", "drop", "unknown"
END = None  # a chain ended or returned without a verdict
_STATEMENTS = {"counter", "log", "comment"}  # match nothing, change no verdict
_TERMINAL = {"accept": ACCEPT, "drop": DROP, "reject": DROP}
_PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58}
MAX_DEPTH = 16  # nested jumps followed before giving up (nft itself refuses loops)


def verdict(ruleset, protocol, port, source=None):
    items = [next(iter(x.items())) for x in ruleset.get("nftables", [])]
    chains = {(c["family"], c["table"], c["name"]): c for kind, c in items if kind == "chain"}
    rules = {}
    for kind, r in items:
        if kind == "rule":
            rules.setdefault((r["family"], r["table"], r["chain"]), []).append(r["expr"])
    packet = _Packet(protocol, port, source)
    found = []
    for key, chain in chains.items():
        if chain.get("hook") == "input" and chain.get("type") == "filter":
            policy = DROP if chain.get("policy") == "drop" else ACCEPT
            found.append({policy if o is END else o for o in _chain(rules, key, packet, 0)})
    if {DROP} in found:
        return DROP
    return ACCEPT if all(f == {ACCEPT} for f in found) else UNKNOWN


class _Packet:
    def __init__(self, protocol, port, source):
        self.protocol, self.port = protocol, int(port)
        self.source = ipaddress.ip_address(source) if source else None


def _chain(rules, key, packet, depth):
    """Every outcome the packet may get in the chain: accept, drop, unknown, END."""
    if depth > MAX_DEPTH:
        return {UNKNOWN}
    outcomes = set()
    for expr in rules.get(key, []):
        matched, action, target = _rule(expr, packet)
        if matched is False or action is None:
            continue
        if action in ("jump", "goto"):
            found = _chain(rules, (key[0], key[1], target), packet, depth + 1)
            # A jump's chain that ends comes back here; a goto's ends this chain too.
            reached = found - {END} if action == "jump" else found
            if matched and (action == "goto" or END not in found):
                return outcomes | reached
            outcomes |= reached
            continue
        outcome = END if action == "return" else _TERMINAL.get(action, UNKNOWN)
        if matched:
            return outcomes | {outcome}
        outcomes.add(outcome)
    return outcomes | {END}


def _rule(expr, packet):
    """(True, False or None: whether the rule applies to the packet; its verdict; jump target)."""
    matched, action, target = True, None, None
    for e in expr:
        kind, value = next(iter(e.items()))
        if kind == "match":
            m = _match(value, packet)
            if m is False:
                return False, None, None
            if m is None:
                matched = None
        elif kind in ("jump", "goto"):
            action, target = kind, value["target"]
        elif kind in _TERMINAL or kind in ("return", "queue"):
            action = kind
        elif kind == "continue" or kind in _STATEMENTS:
            continue
        else:  # limit, quota, set updates...: the rule may stop matching
            matched = None
    return matched, action, target


def _match(m, packet):
    left, op, right = m["left"], m["op"], m["right"]
    kind, spec = next(iter(left.items())) if isinstance(left, dict) else (None, None)
    key = spec.get("key") if kind in ("meta", "ct") else None
    if kind == "meta" and key in ("iif", "iifname"):
        # Only loopback is known: the packet did not come in on it.
        names = _members(right)
        if names == {"lo"}:
            return _apply(op, False)
        return None
    if (
        kind == "meta"
        and key == "l4proto"
        or kind == "payload"
        and (spec.get("protocol"), spec.get("field")) in (("ip", "protocol"), ("ip6", "nexthdr"))
    ):
        return _compare(
            op,
            right,
            _PROTOCOL_NUMBERS[packet.protocol],
            lambda v: _PROTOCOL_NUMBERS.get(v, v) if isinstance(v, str) else int(v),
        )
    if kind == "meta" and key == "nfproto":
        if packet.source is None:
            return None
        return _compare(op, right, f"ipv{packet.source.version}", str)
    if kind == "ct" and key == "state":
        return _compare(op, right, "new", str)
    if kind == "payload" and spec.get("field") == "dport" and spec.get("protocol") in ("tcp", "udp", "th"):
        if spec["protocol"] not in ("th", packet.protocol):
            return False  # nft matches tcp dport only on tcp packets, whatever the operator
        return _compare(op, right, packet.port, int)
    if kind == "payload" and spec.get("field") == "saddr" and spec.get("protocol") in ("ip", "ip6"):
        if packet.source is None:
            return None
        if packet.source.version != (4 if spec["protocol"] == "ip" else 6):
            return False
        return _compare(op, right, packet.source, _address)
    return None


def _apply(op, member):
    return {"==": member, "in": member, "!=": not member}.get(op)


def _members(right):
    if isinstance(right, dict) and "set" in right:
        return {v for v in right["set"] if isinstance(v, (str, int))}
    return {right} if isinstance(right, (str, int)) else set()


def _compare(op, right, value, convert):
    try:
        member = _contains(right, value, convert)
    except (TypeError, ValueError, KeyError):
        return None
    return None if member is None else _apply(op, member)


def _contains(right, value, convert):
    """Whether value is in the match's right side (a value, set, list, range or prefix)."""
    if isinstance(right, dict) and "set" in right or isinstance(right, list):
        items = right["set"] if isinstance(right, dict) else right
        found = [_contains(item, value, convert) for item in items]
        return True if True in found else None if None in found else False
    if isinstance(right, dict) and "range" in right:
        low, high = (convert(v) for v in right["range"])
        return low <= value <= high
    if isinstance(right, dict) and "prefix" in right:
        network = ipaddress.ip_network(f"{right['prefix']['addr']}/{right['prefix']['len']}", strict=False)
        return value in network
    if isinstance(right, dict):
        return None
    return convert(right) == value


def _address(text):
    return ipaddress.ip_address(text)
