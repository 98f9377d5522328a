// The sockets view, like `ss -tanp` and `ss -xp` in words, for the watched run (every run if
// none): its listening sockets with their backlog, its TCP and Unix connections as client ⇄
// server pairs (paired by the server, lab/connections.py), with the bytes waiting in each end's
// queues where there are any, then the UDP and the other Unix sockets of its processes.
// Rows are kept by key and rebuilt only when their data changes; click a pid to select it.

import { h, fill } from './dom.js';
import { t, onLang } from './i18n.js';
import { displayName, runLabel } from './procinfo.js';

const MAX_ROWS = 60;             // per section: the rest is counted, not drawn
const MAX_LEFTOVERS = 3;         // TIME_WAIT rows drawn; an HTTP server leaves one per request
// The note lab/connections.py gives a connection -> its i18n key and badge class.
const NOTES = {
  connected: 'connected',
  'in backlog (not yet accepted)': 'backlog',
  'peer outside the lab': 'outside',
  'time-wait leftover': 'timewait',
  'half-closed': 'halfclosed',
  closing: 'closing',
  connecting: 'connecting',
  socketpair: 'socketpair',
};
const EXPLAINED = new Set(['backlog', 'timewait']);   // the first row of these kinds explains itself
// Live connections first, the leftovers of closed ones last (an HTTP server leaves one per request).
const RANK = { connected: 0, connecting: 1, backlog: 2, outside: 3, socketpair: 4, halfclosed: 5, closing: 6, timewait: 7 };

function portOf(addr) {
  const i = (addr || '').lastIndexOf(':');
  return i < 0 ? null : addr.slice(i + 1);
}

export class SocketsView {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.rows = new Map();         // key -> {el, sig}
    this.list = h('div', { class: 'sk-list', role: 'list' });
    fill(host, this.list);
    host.addEventListener('click', (e) => {
      const a = e.target.closest('[data-pid]');
      if (!a) return;
      e.preventDefault();
      host.dispatchEvent(new CustomEvent('select-pid', { bubbles: true, detail: Number(a.dataset.pid) }));
    });
    for (const ev of ['procs', 'runs', 'selectrun', 'labs']) store.on(ev, () => this.schedule());
    store.on('select', () => this.markSelected());
    onLang(() => { for (const row of this.rows.values()) row.sig = null; this.schedule(); });   // rebuilt in place
  }

  get visible() { return !this.host.hidden; }

  schedule() {
    if (!this.visible || this.raf) return;
    this.raf = requestAnimationFrame(() => { this.raf = null; this.render(); });
  }

  // The runs shown: the watched one, or all of them when none is.
  shownRuns() {
    const run = this.store.runs.get(this.store.selectedRun);
    return run ? [run] : [...this.store.runs.values()];
  }

  render() {
    const items = [];              // [key, sig, () => element]
    const runs = this.shownRuns();
    for (const run of runs) this.runItems(run, items);
    if (!runs.length) items.push(['empty', '', () => h('p', { class: 'sk-empty' }, t('socks.empty'))]);
    // Reconcile: reuse rows whose data did not change, in order; a click is never lost to a re-render.
    const keep = new Set();
    items.forEach(([name, sig, make], i) => {
      const key = keep.has(name) ? `${name}#${i}` : name;    // two sockets alike (a reused port): both shown
      keep.add(key);
      let row = this.rows.get(key);
      if (!row || row.sig !== sig) {
        const el = make();
        if (row) row.el.replaceWith(el);
        row = { el, sig };
        this.rows.set(key, row);
      }
      if (this.list.children[i] !== row.el) this.list.insertBefore(row.el, this.list.children[i] || null);
    });
    for (const [key, row] of this.rows) if (!keep.has(key)) { row.el.remove(); this.rows.delete(key); }
    this.markSelected();
  }

  markSelected() {
    for (const a of this.list.querySelectorAll('[data-pid]')) {
      a.classList.toggle('selected', Number(a.dataset.pid) === this.store.selectedPid);
    }
  }

  runItems(run, items) {
    const id = run.id;
    const conns = run.connections || [];
    const listens = conns.filter((c) => c.kind === 'listen');
    // A TIME_WAIT on the server's side holds the listening port (a rebind fails): before the others.
    const holdsPort = (c) => NOTES[c.note] === 'timewait' && c.server && c.server.status === 'TIME_WAIT';
    const rank = (c) => (RANK[NOTES[c.note]] ?? 5) - (holdsPort(c) ? 0.5 : 0);
    const sorted = conns.filter((c) => c.kind === 'connection').map((c, i) => [c, i])
      .sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j).map(([c]) => c);
    const hinted = new Set();
    const listenPorts = new Set(listens.filter((l) => l.proto !== 'unix').map((l) => portOf(l.addr)));
    const pairs = sorted.map((c) => {            // copies: the store's objects stay as they came
      const kind = NOTES[c.note];
      const hint = EXPLAINED.has(kind) && !hinted.has(kind);
      if (hint) hinted.add(kind);
      // SYN_SENT to a port the run listens on: no server end because the queue is full.
      const queueFull = kind === 'connecting' && !c.server && listenPorts.has(portOf(c.server_addr));
      return { ...c, hint, holds: holdsPort(c), queueFull };
    });
    const others = [];
    for (const p of this.store.procs.values()) {
      if (p.run !== id) continue;
      for (const s of p.sockets || []) {
        // A Unix stream socket listening or connected is in the sections above.
        const paired = s.proto === 'unix' && (s.status === 'LISTEN' || s.status === 'ESTABLISHED');
        if (/^(udp|unix)/.test(s.proto) && !paired) others.push({ ...s, pid: p.pid });
      }
    }
    others.sort((a, b) => a.pid - b.pid || a.fd - b.fd);
    const names = new Map();       // pid -> how the tree calls it: part of each row's signature
    const name = (pid) => {
      if (pid === null || pid === undefined) return '';
      if (!names.has(pid)) { const obj = this.store.proc(pid); names.set(pid, obj ? displayName(this.store, obj) : ''); }
      return names.get(pid);
    };
    const pidsOf = (c) => [c.listen, c.client, c.server].filter(Boolean).flatMap((e) => [e, ...(e.also || [])]).map((e) => e.pid);
    if (!this.store.runs.has(this.store.selectedRun)) {     // all runs: say whose sockets follow
      const head = `${id} · ${runLabel(this.store, id)}${run.state === 'ended' ? ` · ${t('runs.ended')}` : ''}`;
      items.push([`${id}:run`, head, () => h('div', { class: 'sk-run', role: 'listitem' }, head)]);
    }
    if (!listens.length && !pairs.length && !others.length) {
      items.push([`${id}:none`, '', () => h('p', { class: 'sk-empty' }, t('socks.none'))]);
      return;
    }
    // A heading row (its column names), then one row per item, at most MAX_ROWS.
    const section = (kind, list, heads, row, keyOf, pidsOfItem, limit = MAX_ROWS) => {
      items.push([`${id}:${kind}`, String(list.length), () => h('div', { class: `sk-head sk-${kind}`, role: 'listitem' },
        heads.map((k, i) => h('span', i ? null : { class: 'sk-title' }, !k ? '' : i ? t(k) : `${t(k)} (${list.length})`)))]);
      list.slice(0, limit).forEach((item) => {
        const sig = JSON.stringify([item, pidsOfItem(item).map(name)]);
        items.push([`${id}:${kind}:${keyOf(item)}`, sig, () => row(item, name)]);
      });
      const rest = list.slice(limit);
      if (rest.length) {
        const leftovers = rest.every((c) => NOTES[c.note] === 'timewait');
        const more = t(leftovers ? 'socks.moreTimewait' : 'socks.more', { n: rest.length });
        items.push([`${id}:${kind}:more`, more, () => h('p', { class: 'sk-more' }, more)]);
      }
    };
    if (listens.length) {
      section('listen', listens, ['socks.listening', 'socks.heldBy', 'socks.backlog'], (c, nm) => this.listenRow(c, nm),
        (c) => `${c.proto}|${c.addr}`, pidsOf);
    }
    if (listens.length || pairs.length) {
      section('conn', pairs, ['socks.tcp', 'socks.client', '', 'socks.server'], (c, nm) => this.connRow(c, nm),
        (c) => `${c.proto}|${c.client_addr}|${c.server_addr}`, pidsOf,
        Math.min(MAX_ROWS, pairs.length - Math.max(0, pairs.filter((c) => NOTES[c.note] === 'timewait').length - MAX_LEFTOVERS)));
      if (!pairs.length) items.push([`${id}:conn:none`, '', () => h('p', { class: 'sk-empty' }, t('socks.noConn'))]);
    }
    if (others.length) {
      section('other', others, ['socks.other', 'socks.heldBy', 'sock.status'], (s, nm) => this.otherRow(s, nm),
        (s) => `${s.pid}|${s.fd}|${s.inode}`, (s) => [s.pid]);
    }
  }

  // "2030:4 server": the pid is a link that selects the process.
  who(pid, fd, name) {
    return h('a', { href: '#', class: 'sk-pid', 'data-pid': pid, title: t('socks.pidfd', { pid, fd }) },
      h('b', null, pid), h('span', { class: 'sk-fd' }, `:${fd}`), name(pid) ? h('span', { class: 'sk-role' }, name(pid)) : null);
  }

  holders(end, name) {
    return [this.who(end.pid, end.fd, name), ...(end.also || []).map((a) => this.who(a.pid, a.fd, name))];
  }

  listenRow(c, name) {
    const n = c.queued || 0;
    return h('div', { class: 'sk-row sk-listen', role: 'listitem' },
      h('span', { class: 'sk-addr' }, h('span', { class: 'sk-proto' }, c.proto), ' ', h('b', null, c.addr)),
      h('span', { class: 'sk-holders' }, c.listen && c.listen.pid !== null ? this.holders(c.listen, name) : this.nobody()),
      n ? h('span', { class: 'sk-note note-backlog' }, t('socks.queued', { n }))
        : h('span', { class: 'muted' }, t('socks.queueEmpty')));
  }

  connRow(c, name) {
    const kind = NOTES[c.note];
    const label = kind ? t(`socks.note.${kind}`) : c.note;
    const side = (end, addr) => h('div', { class: 'sk-end' },
      h('div', { class: 'sk-holders' },
        end === null ? h('span', { class: 'sk-gone' }, t(c.note === 'peer outside the lab' ? 'socks.outside'
          : c.queueFull ? 'socks.noAnswer' : 'socks.closed'))
          : end.pid === null ? this.nobody() : this.holders(end, name)),
      h('div', { class: 'sk-addr' }, addr || (c.proto === 'unix' ? t('socks.unnamed') : '')),
      end ? this.queues(end, c.proto === 'unix') : null);
    return h('div', { class: `sk-row sk-conn sk-c-${kind || 'other'}`, role: 'listitem', 'data-note': c.note,
      'data-client-pid': c.client?.pid ?? '', 'data-server-pid': c.server?.pid ?? '' },
    h('div', { class: 'sk-state' }, h('span', { class: `sk-note note-${kind || 'other'}`, title: kind ? t(`socks.why.${kind}`) : null }, label),
      h('span', { class: 'sk-status' }, c.state)),
    side(c.client, c.client_addr),
    h('span', { class: 'sk-arrow', 'aria-hidden': 'true' }, '⇄'),
    side(c.server, c.server_addr),
    c.hint ? h('p', { class: 'sk-why' }, t(`socks.hint.${kind}`)) : null,
    c.holds ? h('p', { class: 'sk-why' }, t('socks.holdsPort', { port: portOf(c.server_addr) })) : null);
  }

  otherRow(s, name) {
    const addr = s.laddr || t('socks.unnamed');
    return h('div', { class: 'sk-row sk-other', role: 'listitem' },
      h('span', { class: 'sk-proto' }, s.proto),
      h('span', { class: 'sk-addr', title: addr }, addr, s.raddr ? ` → ${s.raddr}` : ''),
      h('span', { class: 'sk-holders' }, this.who(s.pid, s.fd, name), this.queues(s, s.proto === 'unix')),
      h('span', { class: 'sk-status', title: s.status === 'NONE' ? t('socks.unconn') : null }, s.status || '–'));
  }

  nobody() { return h('span', { class: 'sk-kernel', title: t('socks.kernelWhy') }, t('socks.kernel')); }

  // Bytes waiting at this end, where there are any (ss's Recv-Q and Send-Q).
  queues(end, unix = false) {
    if (!end.recv_q && !end.send_q) return null;
    return h('div', { class: 'sk-queues', title: t(unix ? 'socks.queuesWhyUnix' : 'socks.queuesWhy') },
      t('socks.queues', { r: end.recv_q ?? '–', s: end.send_q ?? '–' }));
  }
}
