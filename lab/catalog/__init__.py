"""The labs as data: what each one is called, explains, takes and offers.

No Flask here: the web layer turns a ``Lab`` into JSON with ``to_json`` and
validates a request body with ``parse_params``; the launcher runs
``python <command(lab, params)>``, i.e. ``python -m lab.experiments.NAME --param value ...``.
One module per family of labs: ``processes`` (fork and its stories),
``concurrency`` (multiprocessing, signals, locks), ``ipc`` (pipes, queues,
shared memory), ``sockets`` (TCP, UDP, Unix, multiplexing, HTTP), ``transport``
(broadcast, sticky packets, TCP's states), ``servers`` (socketserver,
non-blocking IO) and ``capstones`` (the chat room, the file server).
"""
import math

from lab.catalog.capstones import CAPSTONE_LABS
from lab.catalog.concurrency import CONCURRENCY_LABS
from lab.catalog.ipc import IPC_LABS
from lab.catalog.processes import PROCESS_LABS
from lab.catalog.servers import SERVER_LABS
from lab.catalog.sockets import SOCKET_LABS
from lab.catalog.transport import TRANSPORT_LABS
from lab.catalog.types import Action, Lab, Param, ParamError  # noqa: F401  (the catalogue's vocabulary)

LABS = {lab.name: lab for lab in PROCESS_LABS + CONCURRENCY_LABS + IPC_LABS + SOCKET_LABS + TRANSPORT_LABS
        + SERVER_LABS + CAPSTONE_LABS}


# ---- functions -----------------------------------------------------------------

def get(name):
    return LABS.get(name) if isinstance(name, str) else None


def _bounds(p):
    if p.type == "choice":
        return f"{p.name} must be one of: {', '.join(p.choices)}"
    kind = "an integer" if p.type == "int" else "a number"
    return f"{p.name} must be {kind} from {p.min:g} to {p.max:g}"


def _check(p, value):
    """Return the value, typed, or raise ParamError naming the parameter and its bounds."""
    if p.type == "choice":
        if isinstance(value, str) and value in p.choices:
            return value
        raise ParamError(p.name, _bounds(p))
    if isinstance(value, bool):  # True is an int in Python, never a parameter here
        raise ParamError(p.name, _bounds(p))
    if p.type == "int":
        ok = isinstance(value, int)
    else:
        ok = isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
        raise ParamError(p.name, _bounds(p))
    return int(value) if p.type == "int" else float(value)


def parse_params(lab, body):
    """Validate a JSON body against the lab's parameters; return all of them, defaults filled in."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ParamError(None, "parameters must be a JSON object")
    known = {p.name: p for p in lab.params}
    for name in body:
        if name not in known:
            expected = ", ".join(known) or "none"
            raise ParamError(name, f"unknown parameter {name!r} for {lab.name} (expected: {expected})")
    return {p.name: _check(p, body[p.name]) if p.name in body else p.default for p in lab.params}


def command(lab, params):
    """The arguments after the python executable: ["-m", module, "--name", "value", ...]."""
    values = parse_params(lab, params)
    argv = ["-m", lab.module]
    for p in lab.params:
        argv += [f"--{p.name.replace('_', '-')}", str(values[p.name])]
    return argv


def expected_processes(lab, params):
    """How many processes the lab creates with these parameters, or None if unknown."""
    if lab.processes is None:
        return None
    return lab.processes(parse_params(lab, params))


def _param_json(p):
    return {"name": p.name, "type": p.type, "default": p.default, "min": p.min, "max": p.max,
            "choices": list(p.choices), "label": dict(p.label), "help": dict(p.help)}


def _action_json(a):
    return {"id": a.id, "kind": a.kind, "label": dict(a.label), "help": dict(a.help), "role": a.role,
            "signal": a.signal, "key": a.key, "argv": list(a.argv), "pick": a.pick,
            "adds": None if callable(a.adds) else a.adds}     # None: the run's parameters decide


def adds(lab, action, params):
    """How many processes a spawn action brings into a run started with `params`."""
    return action.adds(parse_params(lab, params)) if callable(action.adds) else action.adds


def to_json(lab):
    return {"name": lab.name, "module": lab.module, "title": dict(lab.title), "summary": dict(lab.summary),
            "explain": dict(lab.explain), "params": [_param_json(p) for p in lab.params],
            "actions": [_action_json(a) for a in lab.actions]}
