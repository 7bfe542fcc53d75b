"""Default-deny judged on rulesets as real hosts write them: the deny in a chain the input hook
jumps or goes to (nft JSON as `nft -j list ruleset` 1.0.6 prints it, iptables-save text)."""

import json
import time

import pytest

from fleetready.gather.facts_firewall import ipt_deny, nft_deny, saved_ipt_lines

COUNTER = {"counter": {"packets": 0, "bytes": 0}}
ACCEPT, DROP, RETURN = {"accept": None}, {"drop": None}, {"return": None}
REJECT = {"reject": {"type": "icmpx", "expr": "admin-prohibited"}}
LO = {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}
SSH = {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}
ESTABLISHED = {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "established"}}
# iptables-nft rules listed by nft: `-m comment` and `-j REJECT` stay xtables extensions.
XT_COMMENT = {"xt": {"type": "match", "name": "comment"}}
XT_REJECT = {"xt": {"type": "target", "name": "REJECT"}}


def jump(chain):
    return {"jump": {"target": chain}}


def goto(chain):
    return {"goto": {"target": chain}}


def nft(chains, policy="accept", family="inet", table="filter"):
    """`nft -j list ruleset` text: chains {name: [rule expressions]}; "input" is the base
    chain on the input hook with `policy`, the others regular chains."""
    items = [
        {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"table": {"family": family, "name": table, "handle": 1}},
    ]
    handle = iter(range(1, 1000))
    for name in chains:
        chain = {"family": family, "table": table, "name": name, "handle": next(handle)}
        if name == "input":
            chain |= {"type": "filter", "hook": "input", "prio": 0, "policy": policy}
        items.append({"chain": chain})
    for name, rules in chains.items():
        items += [
            {"rule": {"family": family, "table": table, "chain": name, "handle": next(handle), "expr": expr}}
            for expr in rules
        ]
    return json.dumps({"nftables": items})


def denies(chains, policy="accept"):
    return nft_deny(nft(chains, policy)) == {"ipv4", "ipv6"}


ALLOWED = [[LO, ACCEPT], [ESTABLISHED, ACCEPT], [SSH, ACCEPT]]


P = pytest.param


@pytest.mark.parametrize(
    "chains, policy, deny",
    [
        # as written before chains: the drop in input itself, or its policy
        P({"input": ALLOWED + [[COUNTER, DROP]]}, "accept", True, id="drop-in-input"),
        P({"input": ALLOWED}, "drop", True, id="policy-drop"),
        P({"input": ALLOWED}, "accept", False, id="policy-accept"),
        # the deny in a chain input jumps to; the same shape with nothing denying goes back to input
        P(
            {"input": [[COUNTER, jump("filters")]], "filters": ALLOWED + [[COUNTER, REJECT]]},
            "accept",
            True,
            id="jump-to-reject",
        ),
        P({"input": [[COUNTER, jump("filters")]], "filters": ALLOWED}, "accept", False, id="jump-back-to-accept"),
        P({"input": [[COUNTER, jump("filters")]], "filters": ALLOWED}, "drop", True, id="jump-back-to-drop"),
        # a return goes back after the jump, to the drop or the policy that follows
        P(
            {"input": [[jump("filters")], [DROP]], "filters": [[RETURN], [DROP]]},
            "accept",
            True,
            id="return-to-drop-rule",
        ),
        P({"input": [[jump("filters")]], "filters": [[RETURN], [DROP]]}, "accept", False, id="return-to-accept"),
        P({"input": [[jump("filters")]], "filters": [[RETURN], [ACCEPT]]}, "drop", True, id="return-to-drop"),
        # every packet accepted before the deny: nothing is denied
        P({"input": [[ACCEPT], [jump("filters")]], "filters": [[DROP]]}, "drop", False, id="accept-before-jump"),
        P({"input": [[jump("filters")]], "filters": [[COUNTER, ACCEPT], [DROP]]}, "drop", False, id="accept-in-chain"),
        # a jump guarded by a match covers only some packets; a deny after it still counts
        P({"input": [[LO, jump("filters")]], "filters": [[DROP]]}, "accept", False, id="guarded-jump"),
        P(
            {"input": [[LO, jump("filters")], [DROP]], "filters": [[ACCEPT]]},
            "accept",
            True,
            id="guarded-jump-then-drop",
        ),
        # nested jumps: a chain's end goes back one level
        P(
            {"input": [[jump("a")]], "a": [[jump("b")]], "b": [[SSH, ACCEPT], [REJECT]]},
            "accept",
            True,
            id="nested-reject",
        ),
        P(
            {"input": [[jump("a")]], "a": [[jump("b")], [DROP]], "b": [[SSH, ACCEPT]]},
            "accept",
            True,
            id="nested-back-to-drop",
        ),
        P({"input": [[jump("a")]], "a": [[jump("b")]], "b": [[SSH, ACCEPT]]}, "accept", False, id="nested-no-deny"),
        # a goto does not come back: the end of its chain goes to what jumped before it
        P({"input": [[goto("filters")], [DROP]], "filters": ALLOWED}, "accept", False, id="goto-skips-drop"),
        P({"input": [[goto("filters")], [ACCEPT]], "filters": ALLOWED}, "drop", True, id="goto-to-policy"),
        P({"input": [[goto("filters")]], "filters": ALLOWED + [[DROP]]}, "accept", True, id="goto-to-drop"),
        P(
            {"input": [[jump("a")], [DROP]], "a": [[goto("b")], [ACCEPT]], "b": ALLOWED},
            "accept",
            True,
            id="goto-back-to-jump",
        ),
        # iptables-nft rules listed by nft
        P(
            {"input": [[XT_COMMENT, COUNTER, jump("FILTERS")]], "FILTERS": ALLOWED + [[COUNTER, XT_REJECT]]},
            "accept",
            True,
            id="iptables-nft-reject",
        ),
        P(
            {"input": [[XT_COMMENT, COUNTER, jump("FILTERS")]], "FILTERS": [[SSH, XT_COMMENT, COUNTER, XT_REJECT]]},
            "accept",
            False,
            id="iptables-nft-guarded-reject",
        ),
        # loops (nft refuses them, the judge must not hang on them): they prove no deny
        P({"input": [[jump("a")], [DROP]], "a": [[jump("b")]], "b": [[jump("a")]]}, "accept", False, id="loop"),
        P({"input": [[goto("input")]]}, "drop", False, id="loop-to-base"),
    ],
)
def test_nft_deny_through_chains(chains, policy, deny):
    assert denies(chains, policy) is deny


def test_nft_jumps_stay_in_their_table():
    ruleset = json.loads(nft({"input": [[jump("filters")]], "filters": []}))
    other = json.loads(nft({"filters": [[DROP]]}, family="ip", table="other"))
    ruleset["nftables"] += other["nftables"][1:]
    assert nft_deny(json.dumps(ruleset)) == set()


def test_nft_each_chain_is_walked_once():
    # 60 levels, each jumping twice to the next: 2**60 walks without remembering verdicts.
    chains = {"input": [[jump("c0")], [jump("c0")]]}
    chains |= {f"c{i}": [[jump(f"c{i + 1}")], [jump(f"c{i + 1}")]] for i in range(60)}
    chains["c60"] = [[SSH, ACCEPT]]
    started = time.monotonic()
    assert not denies(chains) and denies(chains, "drop")
    assert time.monotonic() - started < 5  # a no-hang bound, not a speed claim


# iptables-save, as Deis's firewall script and firewall managers write it: a user chain.
DEIS = """# Generated by iptables-save v1.8.9 on Tue Dec  1 10:00:00 2026
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT {policy} [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:Firewall-INPUT - [0:0]
-A INPUT {jump} Firewall-INPUT
-A Firewall-INPUT -i lo -j ACCEPT
-A Firewall-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A Firewall-INPUT -p tcp -m tcp --dport 22 -j ACCEPT
{last}COMMIT
"""


def saved(policy="ACCEPT", jump="-j", last="-A Firewall-INPUT -j REJECT --reject-with icmp-host-prohibited\n"):
    return ipt_deny(saved_ipt_lines(DEIS.format(policy=policy, jump=jump, last=last)))


@pytest.mark.parametrize(
    "policy, jump, last, deny",
    [
        P("ACCEPT", "-j", "-A Firewall-INPUT -j REJECT --reject-with icmp-host-prohibited\n", True, id="reject"),
        P("ACCEPT", "-j", "-A Firewall-INPUT -j DROP\n", True, id="drop"),
        P("DROP", "-j", "", True, id="back-to-policy-drop"),
        P("ACCEPT", "-j", "", False, id="back-to-policy-accept"),
        P("ACCEPT", "-j", "-A Firewall-INPUT -p tcp -j REJECT --reject-with tcp-reset\n", False, id="guarded-reject"),
        # a RETURN goes back to the rule after the jump, here the policy
        P("ACCEPT", "-j", "-A Firewall-INPUT -j RETURN\n-A Firewall-INPUT -j DROP\n", False, id="return-to-accept"),
        P("DROP", "-j", "-A Firewall-INPUT -j RETURN\n-A Firewall-INPUT -j ACCEPT\n", True, id="return-to-drop"),
        P(
            "ACCEPT",
            "-j",
            "-A Firewall-INPUT -j LOG --log-prefix dropped\n-A Firewall-INPUT -j DROP\n",
            True,
            id="log-then-drop",
        ),
        # a guarded jump covers only some packets; a comment matches every packet
        P("ACCEPT", "-i eth0 -j", "-A Firewall-INPUT -j DROP\n", False, id="guarded-jump"),
        P("ACCEPT", '-m comment --comment "lab input" -j', "-A Firewall-INPUT -j DROP\n", True, id="commented-jump"),
        P("ACCEPT", "-g", "-A Firewall-INPUT -j DROP\n", True, id="goto"),
    ],
)
def test_saved_iptables_deny_through_chains(policy, jump, last, deny):
    assert saved(policy, jump, last) is deny


def test_iptables_goto_and_return():
    def rules(*lines, policy="ACCEPT"):
        return ipt_deny([f"-P INPUT {policy}", "-N A", "-N B", *lines])

    # after -g, the end of the chain goes back to what jumped before: the policy here
    assert not rules("-A INPUT -g A", "-A INPUT -j DROP")
    assert rules("-A INPUT -j A", "-A INPUT -j DROP")
    assert rules("-A INPUT -j A", "-A INPUT -j DROP", "-A A -g B", "-A B -p tcp --dport 22 -j ACCEPT")
    assert not rules("-A INPUT -j A", "-A INPUT -j DROP", "-A A -g B", "-A B -j ACCEPT")
    assert not rules("-A INPUT -j RETURN", "-A INPUT -j DROP")
    assert rules("-A INPUT -j RETURN", "-A INPUT -j ACCEPT", policy="DROP")
    # loops: no hang, no deny proved
    assert not rules("-A INPUT -j A", "-A A -j B", "-A B -j A", "-A B -j DROP")
    # a -j to something not a chain of the table (a target like LOG, CT) is no jump
    assert not ipt_deny(["-P INPUT ACCEPT", "-A INPUT -j LOG", "-A LOG -j DROP"])


def test_saved_iptables_keeps_the_filter_table_only():
    text = "*raw\n:PREROUTING ACCEPT\n:X - [0:0]\n-A X -j DROP\nCOMMIT\n" + DEIS.format(
        policy="ACCEPT", jump="-j", last=""
    )
    lines = saved_ipt_lines(text)
    assert "-N Firewall-INPUT" in lines and "-P INPUT ACCEPT" in lines and "-N X" not in lines
    assert not ipt_deny(lines)
    # iptables-save -c: counters before each rule
    counted = "*filter\n:INPUT ACCEPT [10:600]\n:F - [0:0]\n[3:180] -A INPUT -j F\n[1:60] -A F -j DROP\nCOMMIT\n"
    assert ipt_deny(saved_ipt_lines(counted))
