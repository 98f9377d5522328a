"""The thin web layer: the one place in lab/ that imports Flask.

    app = create_app({"RUN_CAP": 16})

starts lab init (before any server thread exists), the sampler and the hub,
and registers one blueprint per concern: pages, the REST API, the websocket.
"""
import atexit
import os

from flask import Flask

from lab.engine import Engine
from lab.web.guard import LOOPBACK_NAMES, check_host, refuse_options

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def create_app(test_config=None):
    app = Flask(__name__, static_folder=os.path.join(ROOT, "static"),
                template_folder=os.path.join(ROOT, "templates"))
    app.config.from_mapping(
        RUN_CAP=64,               # processes per run
        TOTAL_CAP=256,            # processes of all runs together
        RUN_LIFETIME=900.0,       # seconds before a run is stopped
        SAMPLE_HZ=10.0,           # websocket diffs per second at most
        TOKEN=None,               # control token; None = anyone who can reach the page controls
        ALLOWED_HOSTS=LOOPBACK_NAMES,   # names the Host header may carry; None = any (bound beyond loopback)
        MAX_CONTENT_LENGTH=16 * 1024,
        START_RATE=(20, 10.0),    # at most 20 starts per 10 s
        MAX_VIEWERS=200,          # websocket viewers; each holds a server thread
    )
    if test_config:
        app.config.update(test_config)

    engine = Engine(run_cap=app.config["RUN_CAP"], total_cap=app.config["TOTAL_CAP"],
                    lifetime=app.config["RUN_LIFETIME"], hz=app.config["SAMPLE_HZ"]).start()
    app.extensions["proclab"] = engine
    atexit.register(engine.close)

    # A path with "//" (or "%2f") in it is no API path: a JSON 404, not an HTML
    # redirect to the path with one slash.
    app.url_map.merge_slashes = False
    from lab.web import api, errors, pages, proxy, ws
    errors.register(app)
    app.before_request(check_host)
    app.before_request(refuse_options)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(proxy.bp)
    ws.init_app(app)
    return app
