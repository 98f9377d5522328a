"""A lab's web page opened through the dashboard: /runs/<id>/page/."""
import os
import signal
import socket
import textwrap

import pytest

from lab.web import create_app
from tests.helpers import wait_until

SERVER = textwrap.dedent("""
    import http.server
    from lab.report import listening

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"<h1>hello from {self.path}</h1>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    port = server.server_address[1]
    listening("tcp", f"127.0.0.1:{port}", url=f"http://127.0.0.1:{port}/")
    server.serve_forever()
""")


def test_the_page_of_a_lab_server_opens_through_the_dashboard(client, engine):
    run = engine.supervisor.start_run("t", {}, ["-c", SERVER])
    wait_until(lambda: run.endpoints)
    res = client.get(f"/runs/{run.id}/page/index.html?x=1")
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/html")
    assert res.get_data(as_text=True) == "<h1>hello from /index.html?x=1</h1>"
    assert res.headers["Content-Security-Policy"] == "sandbox"        # its scripts are not ours
    res = client.get(f"/runs/{run.id}/page/caf%C3%A9/a%20b%3F?q=%C3%A9+1&r=%2F")  # sent on as a browser sends it
    assert res.get_data(as_text=True) == "<h1>hello from /caf%C3%A9/a%20b%3F?q=%C3%A9+1&r=%2F</h1>"
    assert client.get(f"/api/runs/{run.id}").get_json()["endpoints"][0]["url"].startswith("http://127.0.0.1:")
    engine.supervisor.stop_run(run.id)
    assert client.get(f"/runs/{run.id}/page/").status_code == 409


def test_runs_without_a_page_say_so(client, engine):
    run = engine.supervisor.start_run("t", {}, ["-c", "import time; time.sleep(30)"])
    res = client.get(f"/runs/{run.id}/page/")
    assert res.status_code == 404 and "no web page" in res.get_json()["error"]
    assert client.get("/runs/r999/page/").status_code == 404


def test_only_a_live_listener_of_the_run_is_forwarded_to(client, engine):
    """The run's server is killed (the run lives on) and a program outside the
    lab takes its port: the dashboard used to serve the outsider's page as the
    lab's.  It asks /proc, per request, who listens there now."""
    parent = "import os, sys, time\nif os.fork() == 0:\n    exec(sys.argv[1])\ntime.sleep(60)"
    run = engine.supervisor.start_run("t", {}, ["-c", parent, SERVER])    # the server is a child
    wait_until(lambda: run.endpoints)
    assert client.get(f"/runs/{run.id}/page/").status_code == 200
    server_pid = run.endpoints[0]["pid"]
    port = int(run.endpoints[0]["address"].rsplit(":", 1)[1])
    assert engine.listener(run.id, "127.0.0.1", port) == server_pid
    assert engine.listener(run.id, "127.0.0.2", port) is None          # another address, another listener
    os.kill(server_pid, signal.SIGKILL)
    wait_until(lambda: engine.listener(run.id, "127.0.0.1", port) is None)
    wait_until(lambda: _free(port))
    with socket.socket() as outsider:
        outsider.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        outsider.bind(("127.0.0.1", port))
        outsider.listen()
        res = client.get(f"/runs/{run.id}/page/")
        assert res.status_code == 502
        assert res.get_json()["detail"] == {"code": "not_listening", "run": run.id, "port": port}
        outsider.settimeout(0)
        with pytest.raises(BlockingIOError):
            outsider.accept()                        # nobody was sent to it
    assert run.state == "running"


def _free(port):
    """No socket listens on the port any more (a killed process's socket goes a moment after its fds)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_a_new_tab_opens_the_page_with_a_ticket_for_that_run_only():
    """A tab opened from the dashboard carries no token: the controlling page
    asks for a link, whose ticket opens that run's page (relative links
    included) and nothing else."""
    app = create_app({"TESTING": True, "TOKEN": "s3cret"})
    engine, client = app.extensions["proclab"], app.test_client()
    teacher = {"Authorization": "Bearer s3cret"}
    try:
        run = engine.supervisor.start_run("t", {}, ["-c", SERVER])
        other = engine.supervisor.start_run("t", {}, ["-c", SERVER])
        wait_until(lambda: run.endpoints and other.endpoints)
        assert client.post(f"/api/runs/{run.id}/page").status_code == 401        # a link needs control
        url = client.post(f"/api/runs/{run.id}/page", headers=teacher).get_json()["url"]
        assert url.startswith(f"/runs/{run.id}/page~") and url.endswith("/")
        res = client.get(url + "style.css?v=2")                                  # no token: the ticket opens it
        assert res.status_code == 200 and res.get_data(as_text=True) == "<h1>hello from /style.css?v=2</h1>"
        ticket = url.split("~")[1].rstrip("/")
        for path in (f"/runs/{other.id}/page~{ticket}/", f"/runs/{run.id}/page~{'x' * 22}/",
                     f"/runs/{run.id}/page/", "/api/reset"):
            res = client.get(path) if path != "/api/reset" else client.post(path, json={}, query_string={"ticket": ticket})
            assert res.status_code == 401, path
        assert client.get(url).status_code == 200
        engine.supervisor.stop_run(run.id)
        assert client.get(url).status_code == 409                                 # the run is over
    finally:
        engine.close()
