// The websocket /ws: a snapshot, then diffs (seq + 1 each), events and terminal output.
// Reconnects by itself with a growing delay; a gap in seq asks for a resync.
// Reports its state on the store as 'conn': {state: 'connecting'|'live'|'offline', retryIn}.

export function connect(store) {
  let ws = null;
  let attempt = 0;
  let awaitingSnapshot = true;
  let retryTimer = null;

  function report(state, retryIn = null) {
    store.connState = state;
    store.emit('conn', { state, retryIn });
  }

  function open() {
    clearTimeout(retryTimer);
    report('connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${scheme}://${location.host}/ws`);
    awaitingSnapshot = true;
    ws.onmessage = (msg) => {
      let frame;
      try { frame = JSON.parse(msg.data); } catch { return; }
      handle(frame);
    };
    ws.onclose = () => {
      ws = null;
      const delay = Math.min(8000, 500 * 2 ** attempt);
      attempt += 1;
      report('offline', delay);
      retryTimer = setTimeout(open, delay);
    };
    ws.onerror = () => { /* onclose follows and retries */ };
  }

  function resync() {
    awaitingSnapshot = true;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resync' }));
  }

  function handle(frame) {
    switch (frame.type) {
      case 'snapshot':
        awaitingSnapshot = false;
        attempt = 0;
        store.applySnapshot(frame);
        report('live');
        break;
      case 'diff':
        if (awaitingSnapshot) return;
        if (store.seq !== null && frame.seq <= store.seq) return;       // already have it
        if (store.seq !== null && frame.seq !== store.seq + 1) { resync(); return; }
        store.applyDiff(frame);
        break;
      case 'event':
        store.addEvent(frame.event);
        break;
      case 'terminal':
        store.emit('terminal', { run: frame.run, data: frame.data });
        break;
      case 'error':
        console.warn('websocket:', frame.error, frame.detail);
        break;
      default:
        break;
    }
  }

  // Come back at once when the tab is shown again or the network returns.
  const nudge = () => { if (!ws) open(); };
  window.addEventListener('online', nudge);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) nudge(); });

  open();
  return { resync, reconnectNow: nudge };
}
