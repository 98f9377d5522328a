"""Typing into a helper: a client "add client" started reads a stdin of its own, a pipe
from lab init, since the run's keyboard belongs to its foreground program.  The chat
room's member says what is typed there, and the room hears it."""
import os
import stat

from tests.helpers import wait_until
from tests.test_socket_labs import lab  # noqa: F401  (fixture)


def test_a_member_typed_into_through_the_dashboard_is_heard_by_the_room(lab):
    rid, server, _ = lab.start("chat_room")
    first, second = lab.add_client(rid), lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "您已进入聊天室", second), timeout=8)
    # its stdin is a pipe (not the run's terminal), and lab init holds the other end
    assert stat.S_ISFIFO(os.stat(f"/proc/{first}/fd/0").st_mode)
    assert os.readlink(f"/proc/{first}/fd/1").startswith("/dev/pts/")
    r = lab.client.post(f"/api/runs/{rid}/terminal", json={"pid": first, "data": "大家好, 我是手打的\n"})
    assert r.status_code == 200 and r.get_json() == {"run": rid, "written": len("大家好, 我是手打的\n".encode()),
                                                       "pid": first}
    # the other member, and the server's log, hear exactly that line
    heard = wait_until(lambda: lab.said(rid, "说: 大家好, 我是手打的", second), timeout=8)
    assert heard and lab.said(rid, "大家好, 我是手打的", server)
    # the server is the run's own program, not a helper: it has no stdin of its own to type into
    r = lab.client.post(f"/api/runs/{rid}/terminal", json={"pid": server, "data": "x\n"})
    assert r.status_code == 404 and r.get_json()["detail"]["code"] == "no_helper"
    r = lab.client.post(f"/api/runs/{rid}/terminal", json={"pid": "1", "data": "x\n"})
    assert r.status_code == 400 and r.get_json()["detail"] == {"param": "pid"}
