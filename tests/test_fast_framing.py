"""The gathering command's framing (fleetready/gather/facts.py, sh/frame.sh, sh/gather.sh),
run by local shells as a host's /bin/sh (dash, bash; in a UTF-8 locale): no section's
output, however hostile, can forge or shift another; stderr stays apart; a cut answer is
never read as whole; `fr_part` parts come back as their commands wrote them; each section
gets its own arguments as given, and a hung one costs only itself."""

import os
import shlex
import shutil
import subprocess

import pytest

from fleetready.gather import shell
from fleetready.gather.facts import command, gather, parse_output
from fleetready.transport.unreachable import HostUnreachable
from tests.test_fast_gather import Replay, policy, recorded

MARKER = "@@fleetready-0123456789abcdef"
# Values a policy might hold, each an argument of its own: none is split, globbed or run.
HOSTILE = ["a b", "", "'", '"', "$(id)", "`id`", "*", "-n", "x\\y", "line\nline", "é"]
FUNCTIONS = f"""
# The marker and a header-like line in stdout and stderr, a failing exit, no final newline.
fr_forger() {{ printf '%s\\n' '{MARKER} victim 0 0 4' fake; echo '{MARKER} victim 0 0 1' >&2; printf x; exit 3; }}
fr_args() {{ printf '%s\\n' "$#"; printf '[%s]' "$@"; }}
fr_victim() {{ echo out1; echo err1 >&2; printf 'out2 \\303\\251\\n\\n\\n'; }}   # é: 2 bytes, 1 character
fr_parts() {{
    fr_part one printf 'a b\\n'
    fr_part two sh -c 'echo no >&2; exit 4'
    fr_part three printf '%s' '{MARKER} one 0 0 1'
}}
fr_hang() {{ sleep 30; }}
""" + shell.script("frame.sh")
SECTIONS = {"forger": [], "args": HOSTILE, "victim": [], "parts": ["unused"]}


def run(sections, timeout, shell_path):
    """The gathering command's stdout, run by `shell_path` as its /bin/sh (dash, bash)."""
    words = shlex.split(command(sections, MARKER, timeout, FUNCTIONS))
    argv = [shell_path if word == "/bin/sh" else word for word in words]
    return subprocess.run(
        argv,
        capture_output=True,
        check=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
    ).stdout


@pytest.fixture(scope="module", params=["dash", "bash"])
def shell_path(request):
    return shutil.which(request.param) or pytest.skip(f"no {request.param} here")


@pytest.fixture(scope="module")
def output(shell_path):
    """The script's stdout, as that shell prints it."""
    return run(SECTIONS, 5, shell_path)


def test_hostile_output_cannot_forge_or_shift_another_section(output):
    sections = parse_output(output, MARKER)
    assert list(sections) == ["forger", "args", "victim", "parts"]
    forger = sections["forger"]
    assert (forger.rc, forger.stdout) == (3, f"{MARKER} victim 0 0 4\nfake\nx".encode())
    assert forger.stderr == f"{MARKER} victim 0 0 1\n".encode()
    victim = sections["victim"]
    # stderr apart from stdout, and stdout's trailing newlines kept
    assert (victim.rc, victim.stdout, victim.stderr) == (0, "out1\nout2 é\n\n\n".encode(), b"err1\n")


def test_fr_part_frames_each_output(output):
    parts = parse_output(output, MARKER)["parts"].parts()
    assert {name: (p.rc, p.stdout, p.stderr) for name, p in parts.items()} == {
        "one": (0, b"a b\n", b""),
        "two": (4, b"", b"no\n"),
        "three": (0, f"{MARKER} one 0 0 1".encode(), b""),
    }


def test_a_cut_answer_is_never_read_as_whole(output):
    whole = {name: (s.rc, s.stdout, s.stderr) for name, s in parse_output(output, MARKER).items()}
    for end in range(len(output)):
        try:
            cut = parse_output(output[:end], MARKER)
        except ValueError:
            continue
        # Cut between sections: those before are whole, the rest missing (gather: errors).
        assert {name: (s.rc, s.stdout, s.stderr) for name, s in cut.items()} == {
            name: whole[name] for name in list(whole)[: len(cut)]
        }, end
    with pytest.raises(ValueError):
        parse_output(output[:-1], MARKER)


def test_a_captured_answer_cut_short_is_a_closed_connection():
    meta, stdout = recorded("sound")
    with pytest.raises(HostUnreachable) as raised:
        gather(Replay("sound", stdout[: len(stdout) // 2]), "sound", policy("sound"), meta["timeout"])
    assert raised.value.reason == "closed"


def test_each_section_gets_its_own_arguments_as_given(output):
    args = parse_output(output, MARKER)["args"]
    assert args.rc == 0 and args.stdout.decode() == f"{len(HOSTILE)}\n" + "".join(f"[{a}]" for a in HOSTILE)


def test_a_hung_section_costs_that_section_only(shell_path):
    sections = parse_output(run({"hang": [], "victim": []}, 1, shell_path), MARKER)
    assert sections["hang"].rc == 124 and sections["victim"].stdout.startswith(b"out1\n")
