"""The catalogue: complete bilingual texts, sane parameters, strict validation."""
import importlib
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from lab.catalog import LABS, ParamError, command, expected_processes, get, parse_params, to_json

LANGS = ("en", "zh")
ALL = sorted(LABS)


def has_cjk(text):
    return re.search(r"[\u4e00-\u9fff]", text) is not None


@pytest.mark.parametrize("name", ALL)
def test_texts_in_both_languages(name):
    lab = LABS[name]
    assert lab.name == name
    for text in (lab.title, lab.summary, lab.explain):
        assert set(text) == set(LANGS)
        assert all(text[lang].strip() for lang in LANGS)
        assert has_cjk(text["zh"])
    for item in (*lab.params, *lab.actions):
        for text in (item.label, item.help):
            assert set(text) == set(LANGS) and all(text[lang].strip() for lang in LANGS), item


@pytest.mark.parametrize("name", ALL)
def test_module_imports_and_has_a_docstring(name):
    module = importlib.import_module(LABS[name].module)
    assert LABS[name].module == f"lab.experiments.{name}"
    assert callable(module.main)
    assert "python -m " + LABS[name].module in module.__doc__


@pytest.mark.parametrize("name", ALL)
def test_params_have_defaults_within_bounds(name):
    lab = LABS[name]
    names = [p.name for p in lab.params]
    assert len(names) == len(set(names))
    for p in lab.params:
        assert p.type in ("int", "float", "choice")
        assert re.fullmatch(r"[a-z][a-z0-9_]*", p.name)
        if p.type == "choice":
            assert p.default in p.choices and all(isinstance(c, str) for c in p.choices)
        else:
            assert p.min is not None and p.max is not None and p.min <= p.default <= p.max
            assert type(p.default) is (int if p.type == "int" else float)
    # the defaults are what an empty body gives, and they validate
    assert parse_params(lab, None) == {p.name: p.default for p in lab.params}
    assert parse_params(lab, {}) == parse_params(lab, None)


@pytest.mark.parametrize("name", ALL)
def test_actions(name):
    lab = LABS[name]
    ids = [a.id for a in lab.actions]
    assert len(ids) == len(set(ids))
    for a in lab.actions:
        assert re.fullmatch(r"[a-z0-9_]+", a.id)
        assert a.kind in ("signal", "key", "spawn")
        if a.kind == "signal":
            assert a.role and a.signal and isinstance(getattr(signal, a.signal), signal.Signals)
        elif a.kind == "key":
            assert a.key and a.role is None
        else:
            assert a.argv


def test_teaching_order_and_get():
    assert list(LABS)[:3] == ["fork_basics", "fork_tree", "fork_loop"]
    assert list(LABS).index("orphan") < list(LABS).index("zombie") < list(LABS).index("zombie_fixes")
    assert get("zombie") is LABS["zombie"]
    assert get("nope") is None and get(None) is None and get(3) is None


def test_required_actions():
    def act(lab, id):
        return {a.id: a for a in LABS[lab].actions}[id]

    assert (act("fork_basics", "parent_wait").role, act("fork_basics", "parent_wait").signal) == ("parent", "SIGUSR1")
    assert act("fork_tree", "kill_root").signal == "SIGKILL" and act("fork_tree", "kill_root").role == "root"
    assert act("fork_tree", "stop_root").signal == "SIGSTOP"
    assert act("fork_tree", "continue_root").signal == "SIGCONT"
    assert act("orphan", "parent_exits").signal == "SIGUSR1"
    assert act("zombie", "parent_wait").signal == "SIGUSR1"
    assert act("zombie", "kill_parent").signal == "SIGKILL"
    keys = {a.id: a.key for a in LABS["driver_conductor"].actions if a.kind == "key"}
    assert keys == {"ctrl_c": "\x03", "ctrl_backslash": "\x1c", "ctrl_z": "\x1a"}
    signals = {(a.signal, a.role) for a in LABS["driver_conductor"].actions if a.kind == "signal"}
    assert signals == {("SIGINT", "conductor"), ("SIGQUIT", "conductor"), ("SIGTSTP", "driver")}
    assert act("semaphore", "faster").role == "worker*"


@pytest.mark.parametrize("body, param, message", [
    ({"depth": 5}, "depth", "depth must be an integer from 0 to 4"),
    ({"depth": -1}, "depth", "depth must be an integer from 0 to 4"),
    ({"depth": "3"}, "depth", "depth must be an integer from 0 to 4"),
    ({"depth": 2.0}, "depth", "depth must be an integer from 0 to 4"),
    ({"depth": True}, "depth", "depth must be an integer from 0 to 4"),
    ({"depth": None}, "depth", "depth must be an integer from 0 to 4"),
    ({"breadth": 0}, "breadth", "breadth must be an integer from 1 to 4"),
    ({"hold": 0.1}, "hold", "hold must be a number from 0.5 to 600"),
    ({"hold": float("nan")}, "hold", "hold must be a number from 0.5 to 600"),
    ({"hold": float("inf")}, "hold", "hold must be a number from 0.5 to 600"),
    ({"hold": "10"}, "hold", "hold must be a number from 0.5 to 600"),
    ({"hold": False}, "hold", "hold must be a number from 0.5 to 600"),
])
def test_parse_params_rejects(body, param, message):
    with pytest.raises(ParamError) as err:
        parse_params(LABS["fork_tree"], body)
    assert err.value.param == param
    assert err.value.message == message == str(err.value)
    assert isinstance(err.value, ValueError)


def test_parse_params_unknown_and_bad_body():
    with pytest.raises(ParamError) as err:
        parse_params(LABS["fork_tree"], {"depth": 1, "colour": "red"})
    assert err.value.param == "colour"
    assert "colour" in str(err.value) and "depth" in str(err.value)
    for body in ([1, 2], "depth=2", 3):
        with pytest.raises(ParamError) as err:
            parse_params(LABS["fork_tree"], body)
        assert err.value.param is None
    with pytest.raises(ParamError) as err:
        parse_params(LABS["zombie_fixes"], {"fix": "prayer"})
    assert err.value.param == "fix"
    assert str(err.value) == "fix must be one of: wait, waitpid, sigchld_ign, sigchld_handler, double_fork"
    with pytest.raises(ParamError):
        parse_params(LABS["zombie_fixes"], {"fix": 1})
    with pytest.raises(ParamError) as err:
        parse_params(LABS["driver_conductor"], {"hold": 2.5})
    assert str(err.value) == "hold must be an integer from 1 to 600"


def test_parse_params_accepts_and_fills_defaults():
    lab = LABS["fork_tree"]
    values = parse_params(lab, {"depth": 4, "hold": 2})
    assert values == {"depth": 4, "breadth": 2, "hold": 2.0}
    assert type(values["hold"]) is float and type(values["depth"]) is int
    assert parse_params(lab, {"depth": 0, "breadth": 1, "hold": 0.5}) == {"depth": 0, "breadth": 1, "hold": 0.5}
    assert parse_params(LABS["zombie_fixes"], {"fix": "double_fork"})["fix"] == "double_fork"


def test_expected_processes():
    assert expected_processes(LABS["fork_tree"], {"depth": 2, "breadth": 3}) == 13
    assert expected_processes(LABS["fork_tree"], {"depth": 0, "breadth": 4}) == 1
    assert expected_processes(LABS["fork_tree"], {"depth": 4, "breadth": 4}) == 341
    assert expected_processes(LABS["fork_loop"], {"n": 3}) == 8
    assert expected_processes(LABS["zombie"], None) == 2
    assert expected_processes(LABS["driver_conductor"], {}) == 2
    assert expected_processes(LABS["semaphore"], {"n": 8}) == 9
    assert expected_processes(LABS["zombie_fixes"], {"children": 3}) == 4
    assert expected_processes(LABS["zombie_fixes"], {"children": 3, "fix": "double_fork"}) == 7
    with pytest.raises(ParamError):
        expected_processes(LABS["fork_tree"], {"depth": 9})
    for lab in LABS.values():
        assert lab.processes is None or expected_processes(lab, None) >= 1


def test_command():
    assert command(LABS["fork_tree"], {"depth": 2, "breadth": 3, "hold": 5}) == [
        "-m", "lab.experiments.fork_tree", "--depth", "2", "--breadth", "3", "--hold", "5.0"]
    assert command(LABS["fork_basics"], {"child_hold": 1}) == [
        "-m", "lab.experiments.fork_basics", "--hold", "300.0", "--child-hold", "1.0"]
    assert command(LABS["zombie_fixes"], {"fix": "sigchld_ign"})[:4] == [
        "-m", "lab.experiments.zombie_fixes", "--fix", "sigchld_ign"]
    with pytest.raises(ParamError):
        command(LABS["fork_tree"], {"depth": 7})


@pytest.mark.parametrize("name", ALL)
def test_command_is_accepted_by_the_script(name):
    """Every flag command() produces is one the script's argparse knows (checked via --help)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-m", LABS[name].module, "--help"], capture_output=True, text=True,
                         timeout=30, cwd=root)
    assert out.returncode == 0, out.stderr
    for arg in command(LABS[name], None)[2::2]:
        assert arg in out.stdout


@pytest.mark.parametrize("name", ALL)
def test_to_json(name):
    lab = LABS[name]
    data = to_json(lab)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["name"] == name and data["module"] == lab.module
    for key in ("title", "summary", "explain"):
        assert data[key] == getattr(lab, key)
    assert [p["name"] for p in data["params"]] == [p.name for p in lab.params]
    for p, src in zip(data["params"], lab.params):
        assert set(p) >= {"name", "type", "default", "min", "max", "choices", "label", "help"}
        assert p["default"] == src.default and p["choices"] == list(src.choices)
    for a, src in zip(data["actions"], lab.actions):
        assert set(a) >= {"id", "kind", "label", "help", "role", "signal", "key", "argv"}
        assert a["id"] == src.id


def test_a_spawn_actions_processes_can_follow_the_labs_parameters():
    from lab import catalog
    lab = catalog.get("socketserver_server")
    add = next(a for a in lab.actions if a.id == "add_client")
    assert [catalog.adds(lab, add, {"kind": k}) for k in ("forking", "threading", "udp")] == [2, 1, 1]
    assert catalog.to_json(lab)["actions"][0]["adds"] is None          # the run's parameters decide
    tcp = catalog.get("tcp_fork_server")
    assert catalog.adds(tcp, next(a for a in tcp.actions if a.id == "add_client"), {}) == 2
