// The ps view: ps -eo pid,ppid,pgid,sid,tpgid,stat,ni,pri,pcpu,rss,nlwp,wchan,args for the lab.
// Click a header to sort (again to reverse); click a row to select.

import { h, fill } from './dom.js';
import { t, onLang } from './i18n.js';
import { psCommand, stateClass, kindOf } from './procinfo.js';

const COLUMNS = [
  { key: 'pid', head: 'PID', num: true },
  { key: 'ppid', head: 'PPID', num: true },
  { key: 'pgid', head: 'PGID', num: true },
  { key: 'sid', head: 'SID', num: true },
  { key: 'tpgid', head: 'TPGID', num: true },
  { key: 'stat', head: 'STAT' },
  { key: 'nice', head: 'NI', num: true, show: (p) => (p.nice === null ? '-' : p.nice) },
  // ps -o pri is 39 − (20 + nice) (higher runs first); /proc's priority, top's PR, is 20 + nice.
  { key: 'priority', head: 'PRI', num: true, get: (p) => 39 - p.priority, title: 'table.pri' },
  { key: 'cpu', head: '%CPU', num: true, show: (p) => (p.cpu ?? 0).toFixed(1) },
  { key: 'rss', head: 'RSS', num: true, show: (p) => Math.round((p.rss || 0) / 1024), title: 'table.rss' },
  { key: 'threads', head: 'THR', num: true },
  { key: 'wchan', head: 'WCHAN', show: (p) => p.wchan || '-' },
  { key: 'role', head: 'ROLE', show: (p) => p.role || '', title: 'table.role' },
  { key: 'command', head: 'COMMAND', get: psCommand },
];

export class TableView {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.sortKey = 'pid';
    this.sortDir = 1;
    this.rows = new Map();         // pid -> <tr>
    this.thead = h('thead');
    this.tbody = h('tbody');
    this.table = h('table', { class: 'ps' }, this.thead, this.tbody);
    fill(host, this.table);
    this.tbody.addEventListener('click', (e) => {
      const tr = e.target.closest('tr[data-pid]');
      if (tr) host.dispatchEvent(new CustomEvent('select-pid', { bubbles: true, detail: Number(tr.dataset.pid) }));
    });
    for (const ev of ['procs', 'select', 'runs']) store.on(ev, () => this.schedule());
    onLang(() => { this.renderHead(); this.schedule(); });
    this.renderHead();
  }

  get visible() { return !this.host.hidden; }

  schedule() {
    if (!this.visible || this.raf) return;
    this.raf = requestAnimationFrame(() => { this.raf = null; this.render(); });
  }

  renderHead() {
    const row = h('tr', null, COLUMNS.map((c) => h('th', {
      class: `${c.num ? 'num' : ''}${c.key === this.sortKey ? ' sorted' : ''}`,
      title: c.title ? t(c.title) : t('table.sort'),
      'aria-sort': c.key === this.sortKey ? (this.sortDir > 0 ? 'ascending' : 'descending') : 'none',
      onclick: () => {
        if (this.sortKey === c.key) this.sortDir = -this.sortDir;
        else { this.sortKey = c.key; this.sortDir = 1; }
        this.renderHead();
        this.render();
      },
    }, c.head, c.key === this.sortKey ? (this.sortDir > 0 ? ' ▲' : ' ▼') : '')));
    fill(this.thead, row);
  }

  render() {
    const col = COLUMNS.find((c) => c.key === this.sortKey);
    const value = (p) => (col.get ? col.get(p) : p[col.key]);
    const rows = [...this.store.procs.values()].sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === vb) return a.pid - b.pid;
      if (va === null || va === undefined) return 1;
      if (vb === null || vb === undefined) return -1;
      return (col.num ? va - vb : String(va).localeCompare(String(vb))) * this.sortDir;
    });
    // Rows are kept by PID and only their text changes: a click is never lost to a re-render.
    const keep = new Set();
    rows.forEach((p, i) => {
      keep.add(p.pid);
      let tr = this.rows.get(p.pid);
      if (!tr) {
        tr = h('tr', { 'data-pid': p.pid }, COLUMNS.map((c) => h('td', { class: c.num ? 'num' : c.key === 'command' ? 'cmd' : '' })));
        this.rows.set(p.pid, tr);
      }
      const kind = kindOf(this.store, p);
      const cls = `st-${stateClass(p.state)} kind-${kind}${p.pid === this.store.selectedPid ? ' selected' : ''}`;
      if (tr.className !== cls) tr.className = cls;
      COLUMNS.forEach((c, j) => {
        const text = String(c.show ? c.show(p) : c.get ? c.get(p) : p[c.key] ?? '');
        if (tr.cells[j].textContent !== text) tr.cells[j].textContent = text;
      });
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] || null);
    });
    for (const [pid, tr] of this.rows) if (!keep.has(pid)) { tr.remove(); this.rows.delete(pid); }
  }
}
