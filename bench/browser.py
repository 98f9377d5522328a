"""The page's main-thread time while it shows busy labs live, in real Chromium.

    $ .venv/bin/python -m bench.browser
    views: 20 s each, 1280x720, labs ipc (queue), pool 4, chat room + 3 members
    view                          main thread busy  long tasks
    tree + details (producer)                7.8%           0
    sockets + details                        6.2%           0

The real server runs an ipc lab (a Queue: pipes, semaphores, a feeder thread),
a pool of 4 and a chat room with three members, so every tick changes the tree,
the channels' curves, the sockets view and the thread list.  For each view the
page's main thread is watched for WINDOW seconds: the script time and layout of
every task, from the DevTools Performance metrics (TaskDuration), as a share of
wall time, and the tasks over 50 ms (PerformanceObserver "longtask"), which a
projector's viewers would see as a stutter.  The figure to compare is the share, measured in one run.
"""
import os
import time

from bench.server import Server

WINDOW = 20.0
CHROMIUM = "/usr/bin/chromium"


def busy(page, cdp, seconds):
    """(share of wall time the main thread spent in tasks, long tasks seen) over `seconds`."""
    page.evaluate("""() => { window.__long = 0;
        new PerformanceObserver((l) => { window.__long += l.getEntries().length; })
          .observe({ type: 'longtask', buffered: false }); }""")
    def task_seconds():
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return metrics["TaskDuration"]
    t0, w0 = task_seconds(), time.monotonic()
    time.sleep(seconds)
    t1, w1 = task_seconds(), time.monotonic()
    return (t1 - t0) / (w1 - w0), page.evaluate("() => window.__long")


def main():
    from playwright.sync_api import sync_playwright
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"no Chromium at {CHROMIUM}")
    with Server() as server:
        ipc = server.call("POST", "/api/labs/ipc/start", {"channel": "queue", "period": 0.5, "delay": 0.2})
        server.call("POST", "/api/labs/pool/start", {"n": 4})
        chat = server.call("POST", "/api/labs/chat_room/start", {})
        deadline = time.monotonic() + 10
        while not server.call("GET", f"/api/runs/{chat['run']}")["endpoints"] and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(3):
            server.call("POST", f"/api/runs/{chat['run']}/actions/add_client", {})
        time.sleep(2)
        procs = server.call("GET", "/api/snapshot")["processes"]
        producer = next(p["pid"] for p in procs if p["run"] == ipc["run"] and p["role"] == "producer")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(f"{server.url}/?token={server.token}")
            page.wait_for_selector("#conn[data-state=live]")
            page.click(f'#tree .node[data-pid="{producer}"]')   # channels labelled, threads listed
            print(f"views: {WINDOW:g} s each, 1280x720, labs ipc (queue), pool 4, chat room + 3 members")
            print(f"{'view':28}  {'main thread busy':>16}  {'long tasks':>10}")
            for name, tab in (("tree + details (producer)", "tree"), ("sockets + details", "sockets")):
                page.click(f"#view-tabs [data-tab={tab}]")
                time.sleep(1)
                share, longs = busy(page, cdp, WINDOW)
                print(f"{name:28}  {share:>15.1%}  {longs:>10}", flush=True)
            browser.close()
        server.call("POST", "/api/reset", {})


if __name__ == "__main__":
    main()
