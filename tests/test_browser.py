"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the real server.

Each test starts `python app.py` (the live_server fixture), opens the page at
1280x720, does what a student or teacher would do with the mouse and keyboard,
and checks both the page and the kernel.  Screenshots of every step go to
test-artifacts/.

Without /usr/bin/chromium or the playwright package the module is skipped,
unless PROCLAB_REQUIRE_BROWSER=1 (as in CI), where that is a failure.
"""
import json
import os
import re
import signal
import urllib.request

import pytest

from tests.helpers import proc_stat, wait_until

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:              # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "test-artifacts")
REQUIRED = os.environ.get("PROCLAB_REQUIRE_BROWSER") == "1"

if sync_playwright is None:
    MISSING = "the playwright package is not installed (pip install -r requirements-dev.txt)"
elif not os.path.exists(CHROMIUM):
    MISSING = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
else:
    MISSING = None
if MISSING and not REQUIRED:
    pytest.skip(f"browser tests skipped: {MISSING}", allow_module_level=True)

TIMEOUT = 15_000   # ms: generous for a loaded CI machine; every wait ends as soon as it can
if sync_playwright is not None:
    expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def browser():
    if MISSING:
        pytest.fail(f"PROCLAB_REQUIRE_BROWSER=1 but {MISSING}")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """open_page(server, "/?lang=zh") -> a page at 1280x720 that controls (opened with the
    server's token link, as a teacher would), or only watches with control=False;
    script errors and CSP refusals fail the test."""
    contexts, errors = [], []

    def open_(server, path="/", locale="en-US", control=True):
        context = browser.new_context(viewport={"width": 1280, "height": 720}, locale=locale,
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        if control and server.token and "token=" not in path:
            path += ("&" if "?" in path else "?") + f"token={server.token}"
        page.goto(server.url + path)
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == [], f"errors in the page's scripts: {errors}"


def shot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"))


def api(server, method, path, body=None, token=None):
    """A REST call with the server's token (or the one given)."""
    data = None if body is None and method == "GET" else json.dumps(body or {}).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    token = token or server.token
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def stop_everything(server, token=None):
    """Stop every run of this server and wait until its lab processes are gone from /proc."""
    ours = [p["pid"] for p in api(server, "GET", "/api/snapshot")["processes"] if p["run"] is not None]
    api(server, "POST", "/api/reset", token=token)
    left = lambda: [pid for pid in ours if proc_stat(pid) is not None]   # noqa: E731
    wait_until(lambda: not left(), timeout=5, message=f"lab processes left: {left()}")


def node(page, label):
    """The tree node whose second line is exactly `label` (a role, say)."""
    return page.locator(f'#tree .node:has(.node-label:text-is("{label}"))')


def start_from_labs_panel(page, lab):
    """Open the lab in the labs panel (unless it is open) and press its Start."""
    if not page.locator(f".lab.open[data-lab={lab}]").count():
        page.click(f".lab-head[data-lab={lab}]")
    page.click(f"[data-start={lab}]")


def test_zombie_appears_and_lab_init_reaps_it_when_its_parent_is_killed(live_server, open_page):
    server = live_server()
    page = open_page(server)
    try:
        start_from_labs_panel(page, "zombie")
        zombie = page.locator("#tree .node[data-state=Z]")
        expect(zombie).to_have_count(1)
        expect(zombie).to_have_class(re.compile(r"\btag-zombie\b"))
        pid = int(zombie.get_attribute("data-pid"))
        state, parent = proc_stat(pid)
        assert state == "Z"                                       # the kernel agrees
        expect(page.locator("#runbar .run-chip.live")).to_have_count(1)
        shot(page, "zombie-1-started")

        page.click(f'#tree .node[data-pid="{parent}"]')           # select the parent in the tree
        expect(page.locator(".det-pid")).to_have_text(str(parent))
        expect(page.locator(".det-name")).to_have_text("parent")
        shot(page, "zombie-2-parent-selected")

        page.click(".controls [data-signal=SIGKILL]")
        expect(page.locator("#tree .node[data-state=Z]")).to_have_count(0)
        wait_until(lambda: proc_stat(pid) is None, message=f"zombie {pid} still in /proc")
        page.click("#dock-tabs [data-tab=events]")
        reaped = page.locator(".event-list .kind-exited", has_text=f"{pid} exited (exit code 3), reaped by lab init")
        expect(reaped).to_have_count(1)
        expect(page.locator(".event-list .ev-control", has_text=f"SIGKILL → {parent}")).to_have_count(1)
        shot(page, "zombie-3-reaped-by-lab-init")
    finally:
        stop_everything(server)


def test_ctrl_c_button_starts_the_bus(live_server, open_page):
    server = live_server()
    page = open_page(server)
    try:
        start_from_labs_panel(page, "driver_conductor")
        expect(node(page, "conductor")).to_have_count(1)
        expect(node(page, "driver")).to_have_count(1)
        terminal = page.locator("#terminal .xterm-host:not([hidden]) .xterm-rows")
        expect(terminal).to_contain_text("售票员")                # the conductor got on
        shot(page, "driver-1-on-the-bus")

        page.click("#terminal [data-key=ctrl_c]")
        expect(terminal).to_contain_text("老司机开车了")
        page.click("#dock-tabs [data-tab=events]")
        line = page.locator(".event-list .ev-output", has_text="老司机开车了")
        expect(line).to_have_count(1)
        expect(line.locator(".ev-role")).to_have_text("driver")   # who said it
        shot(page, "driver-2-ctrl-c-in-the-log")
        page.click("#dock-tabs [data-tab=terminal]")
        shot(page, "driver-3-ctrl-c-in-the-terminal")
    finally:
        stop_everything(server)


def test_orphan_is_adopted_by_lab_init_in_the_tree_and_the_ps_table(live_server, open_page):
    server = live_server()
    page = open_page(server)
    try:
        start_from_labs_panel(page, "orphan")
        child = node(page, "child")
        expect(child).to_have_count(1)
        pid = int(child.get_attribute("data-pid"))
        page.click("[data-action=parent_exits]")                       # the lab's suggested action
        expect(child).to_have_class(re.compile(r"\btag-orphan\b"))
        init = int(page.locator("#tree .node.kind-init").get_attribute("data-pid"))
        assert proc_stat(pid)[1] == init                                 # the kernel agrees
        shot(page, "orphan-1-adopted")

        page.keyboard.press("t")                                         # the ps view
        row = page.locator(f'#table tr[data-pid="{pid}"]')
        expect(row.locator("td").nth(1)).to_have_text(str(init))         # PPID column
        page.click("#table th >> text=PPID")
        page.click("#table th >> text=PPID")                             # descending: lab init's children first
        expect(page.locator("#table th.sorted")).to_contain_text("PPID ▼")
        row.click()
        expect(page.locator(".det-pid")).to_have_text(str(pid))
        expect(page.locator(".note-orphan")).to_be_visible()
        page.click("#dock-tabs [data-tab=events]")
        expect(page.locator(".event-list .kind-reparented", has_text=f"{pid} re-parented")).to_have_count(1)
        shot(page, "orphan-2-ps-table")
    finally:
        stop_everything(server)


def test_projector_mode_and_language_switch(live_server, open_page):
    server = live_server()
    page = open_page(server, "/?projector=1&lang=zh")
    body = page.locator("body")
    brand = page.locator(".brand span")
    try:
        expect(body).to_have_class(re.compile(r"\bprojector\b"))
        expect(brand).to_have_text("进程与套接字实验室")
        expect(page.locator("#labs")).to_be_hidden()               # secondary panels go away
        page.keyboard.press("l")                                    # ... and come back as a drawer
        expect(page.locator(".lab-head[data-lab=driver_conductor] .lab-title")).to_have_text("司机和售票员")
        start_from_labs_panel(page, "driver_conductor")
        expect(page.locator("#labs")).to_be_hidden()
        expect(node(page, "售票员")).to_have_count(1)               # roles in the chosen language too
        page.keyboard.press("j")                                    # select a process with the keyboard
        expect(page.locator(".det-pid")).to_be_visible()
        shot(page, "projector-1-zh")

        page.click("#lang-switch [data-lang=en]")
        expect(brand).to_have_text("Process & Socket Lab")
        expect(page.locator("#btn-projector")).to_have_text("Projector")
        assert "lang=en" in page.url and "projector=1" in page.url
        shot(page, "projector-2-en")

        page.keyboard.press("?")
        expect(page.locator("#help .dialog")).to_be_visible()
        expect(page.locator("#help")).to_contain_text("SIGKILL the selected process")
        shot(page, "projector-3-help")
        page.keyboard.press("Escape")
        expect(page.locator("#help")).to_be_hidden()

        page.keyboard.press("p")
        expect(body).not_to_have_class(re.compile(r"\bprojector\b"))
        expect(page.locator("#labs")).to_be_visible()
        assert "projector" not in page.url
        page.keyboard.press("Shift+L")                              # and back to 中文 by keyboard
        expect(page.locator(".lab-head[data-lab=zombie] .lab-title")).to_have_text("僵尸进程")
        shot(page, "projector-4-off-zh")
    finally:
        stop_everything(server)


def test_watch_only_page_hides_every_control(live_server, open_page):
    server = live_server("--token", "s3cret")
    page = open_page(server, control=False)                         # no token: watch only
    try:
        expect(page.locator("body")).to_have_attribute("data-can-control", "false")
        expect(page.locator("#watch-note")).to_be_visible()
        started = api(server, "POST", "/api/labs/zombie/start", token="s3cret")
        zombie = page.locator("#tree .node[data-state=Z]")
        expect(zombie).to_have_count(1)
        page.click(f'#tree .node[data-pid="{started["pid"]}"]')
        expect(page.locator(".det-pid")).to_have_text(str(started["pid"]))
        expect(page.locator(".watch-hint")).to_be_visible()
        for hidden in ("#btn-reset", ".controls", "#terminal [data-key=ctrl_c]", ".run-actions",
                       ".chip-stop"):
            expect(page.locator(hidden)).to_be_hidden()
        # the watched run's lab is open in the labs panel: its explanation stays, its Start goes
        expect(page.locator(".lab.open[data-lab=zombie] .lab-explain")).to_be_visible()
        expect(page.locator("[data-start=zombie]")).to_be_hidden()
        shot(page, "watch-only-1")

        teacher = open_page(server, "/?lang=zh&token=s3cret")       # the token link controls
        expect(teacher.locator("body")).to_have_attribute("data-can-control", "true")
        expect(teacher.locator("#btn-reset")).to_be_visible()
        assert "token" not in teacher.url and "lang=zh" in teacher.url   # the tab keeps it, the URL not
        expect(teacher.locator("#btn-reset")).to_have_text("全部重置")
        assert teacher.context.cookies() == []                            # no cookie: other ports never see it
        teacher.reload()                                                  # the tab still controls
        expect(teacher.locator("body")).to_have_attribute("data-can-control", "true")
        other = teacher.context.new_page()                                # another tab of the browser watches
        other.goto(server.url + "/?lang=zh")
        expect(other.locator("#conn")).to_have_attribute("data-state", "live")
        expect(other.locator("body")).to_have_attribute("data-can-control", "false")
    finally:
        stop_everything(server, token="s3cret")


def test_sockets_view_shows_the_backlog_of_an_iterative_server(live_server, open_page):
    server = live_server()
    page = open_page(server)
    try:
        start_from_labs_panel(page, "tcp_loop_server")
        expect(node(page, "server")).to_have_count(1)
        server_pid = int(node(page, "server").get_attribute("data-pid"))
        page.click("#view-tabs [data-tab=sockets]")
        listening = page.locator("#sockets .sk-row.sk-listen")
        expect(listening).to_have_count(1)
        expect(listening).to_contain_text(f"{server_pid}:")
        expect(listening).to_contain_text("nobody waiting")

        rows = page.locator("#sockets .sk-row.sk-conn")
        connected = rows.filter(has=page.locator('.sk-note:text-is("connected")'))
        waiting = rows.filter(has=page.locator('.sk-note:text-is("in backlog (not yet accepted)")'))
        page.click("[data-action=add_client]")
        expect(connected).to_have_count(1)                 # the first client is accepted ...
        page.click("[data-action=add_client]")
        expect(waiting).to_have_count(1)                   # ... the second waits in the kernel's queue
        expect(connected).to_have_count(1)
        expect(rows).to_have_count(2)
        expect(connected).to_have_attribute("data-server-pid", str(server_pid))
        expect(connected.locator(f'.sk-pid[data-pid="{server_pid}"]')).to_be_visible()
        expect(waiting.locator(".sk-kernel")).to_have_text("kernel (no process)")   # nobody accept()ed it
        expect(listening).to_contain_text("1 waiting in the backlog")
        # a socket seen in the kernel's table a moment before in its process's fds has no holder yet
        expect(waiting).to_have_attribute("data-client-pid", re.compile(r"^\d+$"))
        expect(connected).to_have_attribute("data-client-pid", re.compile(r"^\d+$"))
        second = int(waiting.get_attribute("data-client-pid"))
        first = int(connected.get_attribute("data-client-pid"))
        shot(page, "sockets-1-backlog")

        page.click("[data-action=close_first_client]")
        served = rows.filter(has=page.locator('.sk-note:text-is("connected")'))
        expect(served).to_have_attribute("data-client-pid", str(second))   # accept() took the second at last
        expect(served).to_have_attribute("data-server-pid", str(server_pid))
        expect(waiting).to_have_count(0)
        leftover = rows.filter(has=page.locator('.sk-note:text-is("time-wait leftover")'))
        expect(leftover).to_have_count(1)                   # the first client closed first: its end lingers
        expect(leftover.locator(".sk-kernel")).to_have_text("kernel (no process)")
        wait_until(lambda: proc_stat(first) is None, message=f"first client {first} still in /proc")
        shot(page, "sockets-2-second-served")

        served.locator(f'.sk-pid[data-pid="{second}"]').click()            # a pid selects its process
        expect(page.locator(".det-pid")).to_have_text(str(second))
        expect(page.locator(".det-name")).to_have_text("client")
        expect(served.locator(f'.sk-pid[data-pid="{second}"]')).to_have_class(re.compile(r"\bselected\b"))
        page.click("#lang-switch [data-lang=zh]")                   # the rows by what they are, not their words
        leftover = page.locator('#sockets .sk-conn[data-note="time-wait leftover"]')
        served = page.locator(f'#sockets .sk-conn[data-client-pid="{second}"]')
        expect(leftover.locator(".sk-note")).to_have_text("TIME_WAIT 残留")
        expect(leftover.locator(".sk-kernel")).to_have_text("内核 (无进程)")
        expect(served.locator(".sk-note")).to_have_text("已连接")
        shot(page, "sockets-3-zh")
        page.keyboard.press("p")
        expect(page.locator("body")).to_have_class(re.compile(r"\bprojector\b"))
        expect(served).to_be_in_viewport()
        expect(leftover).to_be_in_viewport()
        shot(page, "sockets-4-projector-zh")
    finally:
        stop_everything(server)


def test_the_watched_run_stays_in_sight_and_reset_reads_when_armed(live_server, open_page):
    """Ended runs never push the watched one out of the runs strip; the header's
    buttons stay readable under the mouse; the ps table's PRI is ps's."""
    server = live_server()
    page = open_page(server)
    try:
        for _ in range(5):
            run = api(server, "POST", "/api/labs/fork_basics/start")
            api(server, "DELETE", f"/api/runs/{run['run']}")
        for lab in ("driver_conductor", "orphan", "semaphore"):
            api(server, "POST", f"/api/labs/{lab}/start")
        start_from_labs_panel(page, "zombie")
        expect(page.locator("#runbar .run-chip.live")).to_have_count(4)
        chip = page.locator("#runbar .run-chip.selected")
        expect(chip).to_have_attribute("data-run", "r9")
        box, strip = chip.bounding_box(), page.locator("#runbar .run-chips").bounding_box()
        assert strip["x"] <= box["x"] and box["x"] + box["width"] <= strip["x"] + strip["width"] + 1
        expect(chip.locator(".chip-stop")).to_be_visible()

        page.click("#view-tabs [data-tab=table]")
        pid = int(node_pid := page.locator("#table tr[data-pid]").first.get_attribute("data-pid"))
        ps_pri = os.popen(f"ps -o pri= -p {pid}").read().strip()
        cells = page.locator(f'#table tr[data-pid="{node_pid}"] td')
        heads = page.locator("#table thead th").all_inner_texts()
        assert cells.nth([h.strip() for h in heads].index("PRI")).inner_text().strip() == ps_pri

        reset = page.locator("#btn-reset")
        reset.hover()
        reset.click()                                  # armed: "click again"
        colour = reset.evaluate("(el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
        assert colour == ["rgb(255, 255, 255)", "rgb(198, 40, 40)"], colour
        page.locator("#btn-labs").hover()
        labs = page.locator("#btn-labs").evaluate("(el) => getComputedStyle(el).color")
        assert labs == "rgb(232, 237, 243)", labs       # light text on the dark bar, hovered or not
        shot(page, "runbar-reset-armed")
    finally:
        stop_everything(server)


def test_the_page_says_when_lab_init_was_lost_and_starting_works_again(live_server, open_page):
    """kill -9 of lab init: every open page is told (in its language), the run
    shows why it ended, and the labs panel starts a run again at once."""
    server = live_server()
    page = open_page(server)
    student = open_page(server, "/?lang=zh", locale="zh-CN", control=False)
    try:
        start_from_labs_panel(page, "orphan")
        expect(node(page, "child")).to_have_count(1)
        old = next(p["pid"] for p in api(server, "GET", "/api/snapshot")["processes"] if p["run"] is None)
        os.kill(old, signal.SIGKILL)
        toast = page.locator(".toast-error", has_text=f"lab init {old} was lost (killed by SIGKILL)")
        expect(toast).to_be_visible()
        expect(toast).to_contain_text("starting works again")
        expect(student.locator(".toast-error", has_text=f"lab init {old} 丢失")).to_be_visible()
        expect(page.locator(".toast-error", has_text="Could not start")).to_have_count(0)
        expect(page.locator("#terminal")).to_contain_text("ended: lab init")
        shot(page, "lab-init-lost-1")
        start_from_labs_panel(page, "zombie")
        expect(page.locator("#tree .node[data-state=Z]")).to_have_count(1)
        new = next(p["pid"] for p in api(server, "GET", "/api/snapshot")["processes"] if p["run"] is None)
        assert new != old and proc_stat(new) is not None
        expect(page.locator(f'#tree .node[data-pid="{old}"]')).to_have_count(0)       # no ghost of it
        shot(page, "lab-init-lost-2")
    finally:
        stop_everything(server)


def test_a_labs_web_page_opens_in_a_tab_of_its_own_without_the_token(live_server, open_page):
    """The http_server lab listens on loopback; the dashboard opens its page in a
    new tab, which has no token: a ticket for that run's page opens it."""
    server = live_server()
    page = open_page(server)
    try:
        start_from_labs_panel(page, "http_server")
        button = page.locator("[data-open-page]")
        expect(button).to_be_visible()
        with page.expect_popup() as popup_info:
            button.click()
        popup = popup_info.value
        expect(popup.locator("body")).to_contain_text("Hello from http_server")
        assert "/page~" in popup.url and server.token not in popup.url
        assert popup.evaluate("window.opener") is None
        shot(popup, "lab-page-1")
        popup.close()
    finally:
        stop_everything(server)


def fd_targets(pid):
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            pass
    return out


def test_the_pipe_between_producer_and_consumer_and_the_threads_of_a_process(live_server, open_page):
    server = live_server()
    page = open_page(server)
    try:
        start_from_labs_panel(page, "ipc")            # channel = pipe: a Unix socketpair
        expect(node(page, "consumer")).to_have_count(1)
        producer = int(node(page, "producer").get_attribute("data-pid"))
        consumer = int(node(page, "consumer").get_attribute("data-pid"))
        pair = f"{min(producer, consumer)}-{max(producer, consumer)}"
        # Drawn between the two as soon as they hold the socketpair; labelled once selected.
        expect(page.locator(f'#tree .links .link[data-pair="{pair}"] .link-path')).to_have_count(1)
        node(page, "consumer").click()
        badge = page.locator(f'#tree .link-badge[data-pid="{producer}"]')   # on the producer: what they share
        expect(badge).to_contain_text("unix")
        expect(page.locator(f'#tree .link-mine[data-pair="{pair}"]')).to_have_count(1)
        # The details name the same sockets the kernel shows in both fd tables.
        item = page.locator(".linklist .link-unix")
        expect(item).to_have_count(1)
        sockets = {t for t in fd_targets(consumer) if t.startswith("socket:")}
        assert sockets and sockets <= fd_targets(producer)
        shown = re.search(r"socket:\[\d+\]", item.locator(".link-id").inner_text()).group(0)
        assert shown in sockets
        expect(item).to_contain_text(str(producer))
        shot(page, "links-1-ipc-socketpair")

        page.click("#runbar .run-chip.live .chip-stop")          # the run's own Stop
        expect(page.locator("#runbar .run-chip.live")).to_have_count(0)
        start_from_labs_panel(page, "threads")
        live_parent = page.locator('#tree .node:not(.ghost):has(.node-label:text-is("parent"))')   # not ipc's, fading
        expect(live_parent).to_have_count(1)
        parent = int(live_parent.get_attribute("data-pid"))
        live_parent.click()
        rows = page.locator(".thr-table tbody tr")
        tids = lambda: sorted(int(t) for t in os.listdir(f"/proc/{parent}/task"))   # noqa: E731
        wait_until(lambda: sorted(int(r) for r in rows.locator("td:first-child").all_inner_texts()) == tids(),
                   timeout=10, message="the thread list is not /proc/PID/task")
        expect(page.locator(".thr-table tbody tr", has_text="thread-1")).to_have_count(1)   # its threading name
        page.click(".det-section button:has-text('measure shared')")
        expect(page.locator(".mem-table th", has_text="USS")).to_have_count(1)
        page.locator(".thr-table").scroll_into_view_if_needed()
        shot(page, "links-2-threads-and-memory")
    finally:
        stop_everything(server)


def test_typing_into_a_chat_members_stdin_from_its_details(live_server, open_page):
    server = live_server()
    page = open_page(server)
    try:
        start_from_labs_panel(page, "chat_room")
        expect(node(page, "server")).to_have_count(1)
        page.click("#runbar [data-action=add_client]")
        expect(node(page, "client")).to_have_count(1)
        page.click("#runbar [data-action=add_client]")
        expect(node(page, "client")).to_have_count(2)
        first = node(page, "client").first
        member = int(first.get_attribute("data-pid"))
        first.click()
        box = page.locator(".stdin-box")
        expect(box).to_be_visible()
        box.locator("input").fill("同学们好")
        box.locator("input").press("Enter")
        # the room relays it: the other member prints it on the run's terminal
        terminal = page.locator("#terminal .xterm-host:not([hidden]) .xterm-rows")
        expect(terminal).to_contain_text("说: 同学们好")
        assert os.path.exists(f"/proc/{member}/fd/0")
        shot(page, "stdin-1-chat-member-typed")
        node(page, "server").click()                 # the run's own program: its keyboard is the terminal
        expect(box).to_be_hidden()
    finally:
        stop_everything(server)
