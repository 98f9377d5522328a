"""K websocket viewers receive every diff: delivery latency and the server's CPU.

    $ .venv/bin/python -m bench.fanout
    viewers  diffs/s  frames  p50 ms  p95 ms  max ms  server CPU  skipped
         10     10.0    ...

A lab that changes every tick (busy processes whose %CPU moves) makes the
hub publish a diff each tick at 10 Hz.  Each viewer records, for every diff,
its arrival time minus the frame's own sampling time `t` (one clock: the
same machine).  Server CPU is the worker process's user+system time over the
measured seconds, as % of one core.  Bounded: 5 s per size, loopback only.
"""
import json
import threading
import time

import simple_websocket

from bench.server import Server, percentile

SIZES = (10, 100, 200)
SECONDS = 5.0


class Viewer(threading.Thread):
    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/ws")
        self.stop, self.delays, self.seq, self.gaps, self.snapshots = stop, [], None, 0, 0

    def run(self):
        while not self.stop.is_set():
            frame = self.ws.receive(timeout=0.2)
            if frame is None:
                continue
            now = time.time()
            msg = json.loads(frame)
            if msg["type"] == "snapshot":
                self.seq, self.snapshots = msg["seq"], self.snapshots + 1
            elif msg["type"] == "diff":
                if self.seq is not None and msg["seq"] != self.seq + 1:
                    self.gaps += 1
                self.seq = msg["seq"]
                self.delays.append(now - msg["t"])
        self.ws.close()


def main():
    print(f"{'viewers':>7}  {'diffs/s':>7}  {'frames':>7}  {'p50 ms':>6}  {'p95 ms':>6}  "
          f"{'max ms':>6}  {'server CPU':>10}  {'skipped':>7}")
    with Server("--threads", str(max(SIZES) + 32)) as server:
        # priority: CPU-bound workers whose %CPU moves every tick, so every tick is a diff
        server.call("POST", "/api/labs/priority/start", {"workers": 3, "seconds": 120})
        for k in SIZES:
            stop = threading.Event()
            viewers = [Viewer(server.port, stop) for _ in range(k)]
            for v in viewers:
                v.start()
            time.sleep(1.0)                          # everyone connected and has its snapshot
            for v in viewers:
                v.delays.clear()
            cpu0, t0 = server.cpu_seconds(), time.monotonic()
            seq0 = max(v.seq or 0 for v in viewers)
            time.sleep(SECONDS)
            cpu1, t1 = server.cpu_seconds(), time.monotonic()
            seq1 = max(v.seq or 0 for v in viewers)
            stop.set()
            for v in viewers:
                v.join(2)
            delays = [d * 1e3 for v in viewers for d in v.delays]
            skipped = sum(v.snapshots - 1 for v in viewers) + sum(v.gaps for v in viewers)
            print(f"{k:>7}  {(seq1 - seq0) / (t1 - t0):>7.1f}  {len(delays):>7}  "
                  f"{percentile(delays, 50):>6.1f}  {percentile(delays, 95):>6.1f}  {max(delays):>6.1f}  "
                  f"{(cpu1 - cpu0) / (t1 - t0) * 100:>9.0f}%  {skipped:>7}", flush=True)
        server.call("POST", "/api/reset", {})


if __name__ == "__main__":
    main()
