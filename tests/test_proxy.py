"""A lab's web page opened through the dashboard: /runs/<id>/page/."""
import textwrap

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
