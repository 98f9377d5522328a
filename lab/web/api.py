"""REST: the catalogue, runs, terminals, actions, signals, renice, snapshot."""
import contextlib
import importlib.util
import os
import time

from flask import Blueprint, current_app, jsonify, request

from lab import catalog, control, proctree, signals
from lab.web.errors import ApiError
from lab.web.guard import RateLimit, check_control, json_body, may_control

bp = Blueprint("api", __name__, url_prefix="/api")

KEYS = {"ctrl_c": b"\x03", "ctrl_backslash": b"\x1c", "ctrl_z": b"\x1a",
        "ctrl_d": b"\x04", "enter": b"\r"}


def engine():
    return current_app.extensions["proclab"]


def announce(action, text, **fields):
    """Every control action becomes an event in the stream.  Told just before the
    act, so the log reads cause, then effect ("SIGKILL → 7" before "7 exited")."""
    engine().hub.publish_event({"t": time.time(), "kind": "control", "action": action,
                                "text": text, "from": request.remote_addr, **fields})


def resample():
    """After an act, the stream shows its effect at once, not at the next tick."""
    engine().hub.sample_now()


def controlled(action, text, **fields):
    announce(action, text, **fields)
    resample()


@contextlib.contextmanager
def acting(action, text, **fields):
    """Announce, act, and if the act fails say so in the log too; re-sample either way."""
    announce(action, text, **fields)
    try:
        yield
    except Exception as exc:
        announce("refused", f"{text}: failed: {exc}", detail=getattr(exc, "detail", None), **fields)
        raise
    finally:
        resample()


def _run_or_404(run_id):
    run = engine().supervisor.get(run_id)
    if run is None:
        raise ApiError(404, f"unknown run {run_id!r}")
    return run


def _limit(name, count, window, what):
    """The app's RateLimit called `name`, made on first use."""
    limit = current_app.extensions.get(name)
    if limit is None:
        limit = current_app.extensions[name] = RateLimit(count, window, what)
    return limit


def _start_limit():
    return _limit("proclab_start_limit", *current_app.config["START_RATE"], "starts")


# -- catalogue ---------------------------------------------------------------
@bp.get("/labs")
def labs():
    return jsonify({"labs": [catalog.to_json(lab) for lab in catalog.LABS.values()],
                    "run_cap": current_app.config["RUN_CAP"]})


@bp.get("/labs/<name>")
def lab_detail(name):
    lab = catalog.get(name)
    if lab is None:
        raise ApiError(404, f"unknown lab {name!r}", {"labs": list(catalog.LABS)})
    return jsonify(catalog.to_json(lab))


@bp.get("/labs/<name>/source")
def lab_source(name):
    lab = catalog.get(name)
    if lab is None:
        raise ApiError(404, f"unknown lab {name!r}", {"labs": list(catalog.LABS)})
    path = importlib.util.find_spec(lab.module).origin     # found, not imported: nothing runs
    with open(path, encoding="utf-8") as f:
        source = f.read()
    return jsonify({"name": name, "module": lab.module,
                    "path": os.path.relpath(path, os.path.dirname(os.path.dirname(path))),
                    "source": source})


@bp.post("/labs/<name>/start")
def start(name):
    check_control()
    lab = catalog.get(name)
    if lab is None:
        raise ApiError(404, f"unknown lab {name!r}", {"labs": list(catalog.LABS)})
    body = json_body(required=False)
    try:
        params = catalog.parse_params(lab, body)
    except catalog.ParamError as exc:
        raise ApiError(400, str(exc), {"param": exc.param})
    cap = current_app.config["RUN_CAP"]
    expected = catalog.expected_processes(lab, params)
    if expected is not None and expected > cap:
        raise ApiError(409, f"{name} with these parameters makes {expected} processes; "
                            f"the per-run cap is {cap}", {"processes": expected, "cap": cap})
    _start_limit().hit()
    run = engine().supervisor.start_run(name, params, catalog.command(lab, params), processes=expected or 1)
    controlled("start", f"start {name} → run {run.id}, root {run.root}", run=run.id, pid=run.root)
    return jsonify({"run": run.id, "pid": run.root, "session": run.session}), 201


@bp.get("/control")
def control_state():
    """May this request control?  A page reloaded asks with the token its tab kept."""
    return jsonify({"control": may_control(), "token_required": bool(current_app.config.get("TOKEN"))})


# -- runs --------------------------------------------------------------------
@bp.get("/runs")
def runs():
    return jsonify({"runs": engine().supervisor.list_runs()})


@bp.get("/runs/<run_id>")
def run_detail(run_id):
    return jsonify(_run_or_404(run_id).to_json())


@bp.delete("/runs/<run_id>")
def stop(run_id):
    check_control()
    run = _run_or_404(run_id)
    if run.state != "ended":
        with acting("stop", f"stop run {run_id}", run=run_id, pid=run.root):
            run = engine().supervisor.stop_run(run_id, {"code": "dashboard"})
    return jsonify(run.to_json())


@bp.post("/reset")
def reset():
    check_control()
    with acting("reset", "reset: stop every run", run=None, pid=None):
        stopped = engine().supervisor.reset()
    return jsonify({"stopped": stopped})


@bp.get("/runs/<run_id>/terminal")
def terminal_read(run_id):
    run = _run_or_404(run_id)
    return jsonify({"run": run_id, "data": bytes(run.output).decode("utf-8", "replace"),
                    "total": run.output_total})


@bp.post("/runs/<run_id>/terminal")
def terminal_write(run_id):
    """{"data": "text typed"} or {"key": "ctrl_c" | "ctrl_backslash" | "ctrl_z" | "ctrl_d" | "enter"};
    with "pid", into the stdin of that helper of the run (a client "add client" started)."""
    check_control()
    run = _run_or_404(run_id)
    body = json_body()
    pid = body.get("pid")
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 1 << 22):
        raise ApiError(400, "pid must be the pid of one of the run's helpers", {"param": "pid"})
    if "key" in body:
        key = body["key"]
        if not isinstance(key, str) or key not in KEYS:
            raise ApiError(400, f"unknown key {key!r}", {"keys": list(KEYS)})
        data = KEYS[key]
    elif isinstance(body.get("data"), str) and len(body["data"]) <= 4096:
        try:
            data = body["data"].encode()
        except UnicodeEncodeError:       # a lone surrogate such as "\ud800": not text
            raise ApiError(400, "data is not valid Unicode text", {"param": "data"})
    else:
        raise ApiError(400, "send {\"data\": \"text\"} (at most 4096 characters) or {\"key\": name}",
                       {"keys": list(KEYS)})
    if run.state == "ended":         # checked before anything is told
        raise ApiError(404, f"no running run {run_id!r}")
    where = f"{pid} stdin" if pid is not None else "terminal"
    with acting("key" if "key" in body else "input",
                f"run {run_id} {where}: {body.get('key') or repr(body['data'])}", run=run_id, pid=pid):
        written = engine().supervisor.write(run_id, data, pid=pid)
    return jsonify({"run": run_id, "written": written, **({"pid": pid} if pid is not None else {})})


@bp.post("/runs/<run_id>/actions/<action_id>")
def action(run_id, action_id):
    check_control()
    run = _run_or_404(run_id)
    lab = catalog.get(run.lab)
    act = next((a for a in (lab.actions if lab else ()) if a.id == action_id), None)
    if act is None:
        raise ApiError(404, f"unknown action {action_id!r} for {run.lab}",
                       {"actions": [a.id for a in lab.actions] if lab else []})
    if run.state == "ended":
        raise ApiError(409, f"run {run_id} has ended")
    json_body(required=False)
    sup = engine().supervisor
    told = {"run": run_id, "label": act.label, "id": action_id}
    if act.kind == "key":
        with acting("action", f"{act.label.get('en', action_id)}: key {act.key!r} to run {run_id}",
                    pid=None, **told):
            sup.write(run_id, act.key.encode())
        return jsonify({"action": action_id, "kind": "key"})
    if act.kind == "spawn":
        argv = _fill_endpoint(run, act.argv)
        with acting("action", f"{act.label.get('en', action_id)}: a helper in run {run_id}",
                    pid=None, **told):
            pid = sup.spawn(run_id, argv, processes=catalog.adds(lab, act, run.params))
        return jsonify({"action": action_id, "kind": "spawn", "pid": pid})
    signum, name = signals.parse(act.signal)
    sent, role = [], act.role.rstrip("*")
    pids = sup.pids_with_role(run_id, act.role)
    if act.pick in ("newest", "oldest"):
        pids = _by_age(pids, youngest_first=act.pick == "newest")
    try:
        for pid in pids:
            if sent and act.pick != "all":
                break
            text = f"{act.label.get('en', action_id)}: {name} → {role} {pid}"
            told_now = []
            try:
                control.send_signal(pid, signum, engine().launcher_pid, run_id=run_id, announce=lambda *_: (
                    told_now.append(pid),
                    announce("action", text, pid=pid, signal=name, role=role, **told)))
                sent.append(pid)
            except control.ControlError as exc:    # it exited since it said its role
                if told_now:                       # ... between the check and the send
                    announce("refused", f"{text}: {exc}", pid=pid, signal=name, role=role, **told)
    finally:
        resample()
    if not sent:
        raise ApiError(409, f"no live process with role {act.role!r} in run {run_id}")
    return jsonify({"action": action_id, "kind": "signal", "signal": name, "pids": sent})


def _fill_endpoint(run, argv):
    """Put the address the run's server announced into a helper's arguments."""
    if not any("{" in arg for arg in argv):
        return list(argv)
    if not run.endpoints:
        raise ApiError(409, f"run {run.id} has not announced where it listens yet")
    address = run.endpoints[0]["address"]
    host, _, port = address.rpartition(":") if not address.startswith("/") else ("", "", "")
    fields = {"address": address, "host": host.strip("[]"), "port": port, "path": address}
    return [arg.format(**fields) for arg in argv]


def _by_age(pids, youngest_first):
    """Lab processes by start time (pids wrap; start times do not)."""
    started = {pid: proctree.start_ticks(pid) or 0 for pid in pids}
    return sorted(pids, key=lambda pid: started[pid], reverse=youngest_first)


# -- processes ---------------------------------------------------------------
@bp.get("/snapshot")
def snapshot():
    return jsonify(engine().hub.snapshot())


@bp.get("/signals")
def signal_table():
    return jsonify({"signals": signals.table()})


def _int_field(body, name, lo, hi):
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ApiError(400, f"{name} must be an integer from {lo} to {hi}", {"param": name})
    return value


@bp.post("/processes/<int:pid>/signal")
def signal_process(pid):
    check_control()
    body = json_body()
    if "signal" not in body:
        raise ApiError(400, "missing field: signal (a name like \"SIGINT\" or a number)")
    try:
        signum, name = signals.parse(body["signal"])
    except ValueError as exc:
        raise ApiError(400, str(exc), {"param": "signal"})
    target = body.get("target", "pid")
    if target not in ("pid", "group"):
        raise ApiError(400, "target must be \"pid\" (like kill) or \"group\" (like the keyboard)",
                       {"param": "target"})

    def tell(run, pgid):
        whom = f"group {pgid}" if target == "group" else str(pid)
        announce("signal", f"{name} → {whom} (from the dashboard)",
                 pid=pid, run=run, signal=name, target=target)
    try:
        run, pgid = control.send_signal(pid, signum, engine().launcher_pid, target, announce=tell)
    except control.ControlError as exc:
        controlled("refused", f"refused {name} to {pid}: {exc}", pid=pid, run=None, signal=name)
        raise ApiError(exc.status, str(exc))
    resample()
    return jsonify({"pid": pid, "run": run, "signal": name, "number": signum, "target": target,
                    "pgid": pgid, "default_action": signals.default_action(signum)})


@bp.get("/processes/<int:pid>/memory")
def process_memory(pid):
    """Shared and private memory of one lab process (watching: no token needed,
    but the kernel walks its page tables for it: bounded per second)."""
    usage = engine().memory(pid, _limit("proclab_memory_limit", 20, 1.0, "memory measurements").hit)
    if usage is None:
        raise ApiError(404, f"{pid} is not a live lab process", {"code": "not_lab_process", "pid": pid})
    return jsonify({"pid": pid, **usage})


@bp.post("/processes/<int:pid>/renice")
def renice_process(pid):
    check_control()
    body = json_body()
    nice = _int_field(body, "nice", -20, 19)
    try:
        run = control.renice(pid, nice, engine().launcher_pid)
    except control.ControlError as exc:
        controlled("refused", f"refused renice {nice} of {pid}: {exc}", pid=pid, run=None)
        raise ApiError(exc.status, str(exc))
    controlled("renice", f"renice {nice} {pid}", pid=pid, run=run, nice=nice)
    return jsonify({"pid": pid, "run": run, "nice": nice})
