"""Start the dashboard.

    $ python app.py
    Process & Socket Lab: http://127.0.0.1:5000/?token=Vq3y…   (Ctrl-C to stop)
      The link controls the lab; without its token a browser only watches.

    $ python app.py --host 0.0.0.0 --port 8000     # a class on the LAN may watch

Control needs a token on every address, as Jupyter's does: on a shared
Linux server every user can reach 127.0.0.1.  ``--no-token`` turns it off,
on loopback only.  Where a desktop is there, the browser opens on the link.

It serves on gunicorn's threaded worker (a websocket needs a thread each),
embedded here as a custom application: one worker process, many threads.  The worker starts lab init first, before any of its threads
exist, and dies with the server even if the server is SIGKILLed
(PR_SET_PDEATHSIG), which closes lab init's control channel, so lab init
kills every lab process.  Ctrl-C stops it all cleanly.
"""
import argparse
import ipaddress
import os
import secrets
import signal
import sys

from gunicorn.app.base import BaseApplication

from lab.web.worker import MAX_HEADS, DashboardWorker, libc

PR_SET_PDEATHSIG = 1
GRACEFUL_TIMEOUT = 2      # seconds the master gives the worker to stop before SIGKILL


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def control_token(given=None, no_token=False):
    """The token control requests need: the given one, else a new one at every
    start, as Jupyter does; None only when asked (--no-token)."""
    if no_token:
        return None
    return given or secrets.token_urlsafe(18)


def open_browser(url):
    """Open the link where a desktop is there (Jupyter does it too): a terminal
    of our own and a display, and a graphical browser, never one that would
    take over the terminal (lynx, w3m)."""
    import threading
    import webbrowser
    if not sys.stdout.isatty() or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if not isinstance(browser, webbrowser.BackgroundBrowser):
        return False
    threading.Thread(target=browser.open, args=(url,), daemon=True).start()
    return True


def allowed_hosts(host, extra=()):
    """The names the Host header may carry (lab.web.guard): on loopback, the
    loopback names, the bound address (127.0.0.2 is loopback too) and any name
    given with --allow-host (a proxy's, a forwarded port's); beyond loopback,
    any name (None): the control token guards control there."""
    if not is_loopback(host):
        return None
    from lab.web.guard import LOOPBACK_NAMES
    return tuple(dict.fromkeys([*LOOPBACK_NAMES, host.strip("[]").lower(),
                                *(name.strip("[]").lower() for name in extra)]))


def _die_with_parent(server, worker):
    """post_fork: the worker must not outlive the server that started it."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class DashboardServer(BaseApplication):
    def __init__(self, options, app_config, url, browser=True):
        self.options = options
        self.app_config = app_config
        self.url = url
        self.browser = browser
        self.flask_app = None
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_fork", _die_with_parent)
        self.cfg.set("when_ready", self._ready)
        self.cfg.set("worker_exit", self._close_lab)

    def _ready(self, server):
        print(f"Process & Socket Lab: {self.url}   (Ctrl-C to stop)", flush=True)
        if self.app_config["TOKEN"]:
            print("  The link controls the lab; without its token a browser only watches.", flush=True)
        else:
            print("  WARNING: --no-token: anyone who can reach this address, every user of this "
                  "machine among them, controls the lab.", flush=True)
        if self.browser and open_browser(self.url):
            print("  Opening it in your browser (--no-browser: don't).", flush=True)

    def load(self):
        from lab.web import create_app     # in the worker, before its threads start
        self.flask_app = create_app(self.app_config)
        return self.flask_app

    def _close_lab(self, server, worker):
        """worker_exit: close the lab, in the worker, whatever made it stop (see DashboardWorker)."""
        if worker.pid != os.getpid():
            return                    # the master, tidying up after a worker already gone
        signalled = worker.stopping
        if not signalled:             # it stopped for another reason: no signal may cut this short
            worker.stop_once()
        try:
            if self.flask_app is not None:
                self.flask_app.extensions["proclab"].close()
        finally:
            worker.stopped()
        if signalled:
            # Python's exit is all that is left (exit code 0), and it would join the
            # server's threads: one stuck sending to a viewer that no longer reads (a
            # laptop gone to sleep) would hold it until the master's SIGKILL.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Process & Socket Lab dashboard")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0: a class on the LAN may watch)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--token", help="control token (default: a new one at every start, printed in the URL)")
    parser.add_argument("--no-token", action="store_true",
                        help="no control token: anyone who can reach the address controls (loopback only)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="another name the dashboard answers to on loopback (a proxy's); repeatable")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open the browser on the URL (it opens where a desktop is there)")
    parser.add_argument("--threads", type=int, default=256,
                        help="server threads: each open websocket holds one")
    parser.add_argument("--run-cap", type=int, default=64, help="processes per run")
    parser.add_argument("--lifetime", type=float, default=900.0, help="seconds a run may live")
    args = parser.parse_args(argv)

    for name in args.allow_host:
        # "lab.example" or "::1" or "[::1]", not "lab.example:8000" nor "[::1]:80"
        if (name.startswith("[") and not name.endswith("]")) or (not name.startswith("[") and name.count(":") == 1):
            parser.error(f"--allow-host {name}: give a name without a port")
    if args.no_token and args.token:
        parser.error("--no-token and --token: choose one")
    if args.no_token and not is_loopback(args.host):
        parser.error(f"--no-token is for loopback only: bound to {args.host}, others could control the lab")
    token = control_token(args.token, args.no_token)
    host = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
    url = f"http://{host}:{args.port}/" + (f"?token={token}" if token else "")
    options = {
        "bind": f"{host}:{args.port}",
        "workers": 1,                  # one lab init, one view of the lab
        "worker_class": DashboardWorker,
        "threads": args.threads,
        "worker_connections": args.threads + MAX_HEADS + 64,   # requests being read hold no thread
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "timeout": 30,
        "keepalive": 5,
        "accesslog": None,
        "loglevel": "warning",
        "proc_name": "proclab",
    }
    app_config = {"TOKEN": token, "RUN_CAP": args.run_cap, "RUN_LIFETIME": args.lifetime,
                  "MAX_VIEWERS": max(1, args.threads - 16)}    # every viewer holds a thread: keep 16 for REST
    app_config["ALLOWED_HOSTS"] = allowed_hosts(args.host, args.allow_host)
    DashboardServer(options, app_config, url, browser=not args.no_browser).run()


if __name__ == "__main__":
    sys.exit(main())
