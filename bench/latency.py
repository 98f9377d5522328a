"""Time from a control action to the new STAT on a websocket viewer's screen.

    $ .venv/bin/python -m bench.latency
    200 stop/continue pairs through the real server, 400 actions
    action -> STAT on the websocket: p50 4.1 ms  p95 6.0 ms  max 9.8 ms

Each action is POST /api/processes/PID/signal (SIGSTOP, then SIGCONT); the
clock runs from just before the request until the websocket frame carrying
the process's new STAT ('T+' or back to 'S+') has arrived and been decoded.
"""
import json
import time

import simple_websocket

from bench.server import Server, percentile

ACTIONS = 200


def main():
    with Server() as server:
        run = server.call("POST", "/api/labs/fork_basics/start", {})
        pid = run["pid"]
        ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{server.port}/ws")
        stat = {}

        def wait_for(predicate, timeout=5.0):
            deadline = time.monotonic() + timeout
            while not predicate(stat.get(pid, "")):
                frame = ws.receive(timeout=max(0.0, deadline - time.monotonic()))
                if frame is None:
                    raise TimeoutError(f"no new STAT for {pid} within {timeout} s")
                msg = json.loads(frame)
                for proc in msg.get("processes", []) + msg.get("upsert", []):
                    stat[proc["pid"]] = proc["stat"]

        wait_for(lambda s: s.startswith("S"))
        times = []
        for _ in range(ACTIONS):
            for sig, seen in (("SIGSTOP", lambda s: s.startswith("T")),
                              ("SIGCONT", lambda s: not s.startswith("T"))):
                t0 = time.perf_counter()
                server.call("POST", f"/api/processes/{pid}/signal", {"signal": sig})
                wait_for(seen)
                times.append(time.perf_counter() - t0)
        ws.close()
        server.call("POST", "/api/reset", {})
    ms = [t * 1e3 for t in times]
    print(f"{ACTIONS} stop/continue pairs through the real server, {len(ms)} actions")
    print(f"action -> STAT on the websocket: p50 {percentile(ms, 50):.1f} ms  "
          f"p95 {percentile(ms, 95):.1f} ms  max {max(ms):.1f} ms")


if __name__ == "__main__":
    main()
