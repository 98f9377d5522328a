"""lab.signals names, parses and describes every signal, as bash's kill -l does."""
import signal
import subprocess

import pytest

from lab import signals


def kill_l(num):
    """What bash's builtin `kill -l N` prints (the name without SIG)."""
    out = subprocess.run(["bash", "-c", f"kill -l {num}"], capture_output=True, text=True)
    return out.stdout.strip() or None


def test_names_are_bashs_kill_l():
    for num in range(1, 65):
        if signals.sendable(num):
            assert signals.name(num) == "SIG" + kill_l(num), num


def test_names_in_a_kernel_mask():
    assert signals.names_in_mask(0) == []
    assert signals.names_in_mask(1 << 1 | 1 << 8) == ["SIGINT", "SIGKILL"]
    bits = [6, 17, 29, 32, 33, 34, 36, 49, 50, 63, 64]
    assert signals.names_in_mask(sum(1 << (n - 1) for n in bits)) == [
        "SIGABRT", "SIGCHLD", "SIGIO", "SIG32", "SIG33", "SIGRTMIN", "SIGRTMIN+2",
        "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-1", "SIGRTMAX"]
    for s in signal.Signals:        # Python's own names wherever it has one
        assert signals.names_in_mask(1 << (s.value - 1)) == [s.name]


@pytest.mark.parametrize("given, expected", [
    (2, (2, "SIGINT")), ("SIGINT", (2, "SIGINT")), ("int", (2, "SIGINT")), (" sigterm ", (15, "SIGTERM")),
    ("SIGRTMIN+1", (35, "SIGRTMIN+1")), ("rtmin+20", (54, "SIGRTMAX-10")), ("SIGRTMAX-10", (54, "SIGRTMAX-10")),
    ("SIGRTMAX", (64, "SIGRTMAX")), (34, (34, "SIGRTMIN")), ("SIGPOLL", (29, "SIGIO")), ("SIGIOT", (6, "SIGABRT")),
])
def test_parse(given, expected):
    assert signals.parse(given) == expected


@pytest.mark.parametrize("given", [0, 32, 33, 65, -1, True, None, 2.0, "", "SIGFOO", "SIG32", "SIGRTMIN+31",
                                   "SIGRTMAX-31", "SIGRTMIN+-1", "SIGRTMIN+1e3", ["SIGINT"]])
def test_parse_refuses_what_cannot_be_sent(given):
    with pytest.raises(ValueError):
        signals.parse(given)


def test_table_is_every_sendable_signal_with_its_default_action():
    table = {row["number"]: row for row in signals.table()}
    assert sorted(table) == list(range(1, 32)) + list(range(signals.RTMIN, signals.RTMAX + 1))
    assert table[9] == {"number": 9, "name": "SIGKILL", "default": "terminate", "catchable": False, "realtime": False}
    assert table[3]["default"] == "core" and table[17]["default"] == "ignore"
    assert table[19]["default"] == "stop" and table[18]["default"] == "continue"
    assert table[35] == {"number": 35, "name": "SIGRTMIN+1", "default": "terminate", "catchable": True, "realtime": True}
