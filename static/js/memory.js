// Shared and private memory of the selected process, measured when asked
// (GET /api/processes/<pid>/memory reads smaps_rollup: the kernel walks every
// page table, so it is never done per tick).  After fork() the child shares
// its parent's pages; a write copies the page (copy-on-write) and USS grows.
// Each process's last two measurements are kept, so before and after (and the
// child beside the parent) can be compared: the change is shown.

import { h, fmtBytes, fmtTime } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';

const KEEP = 64;        // processes whose measurements are remembered

export class MemoryPanel {
  constructor(onChange) {
    this.onChange = onChange;       // re-render the details when a measurement lands
    this.results = new Map();       // pid -> {last: {data, at}, before: {data, at} | null, error}
    this.busy = false;
  }

  async measure(pid) {
    this.busy = true;
    this.onChange();
    const kept = this.results.get(pid) || { last: null, before: null };
    try {
      const data = await api.memory(pid);
      this.results.set(pid, { last: { data, at: Date.now() / 1000 }, before: kept.last, error: null });
    } catch (err) {
      const why = { 404: 'mem.gone', 429: 'mem.busy' }[err.status];
      this.results.set(pid, { ...kept, error: why ? t(why) : err.message });
    }
    while (this.results.size > KEEP) this.results.delete(this.results.keys().next().value);
    this.busy = false;
    this.onChange();
  }

  render(obj, gone) {
    const r = this.results.get(obj.pid);
    const button = h('button', { class: 'btn small', disabled: this.busy || gone || obj.state === 'Z',
      onclick: () => this.measure(obj.pid) }, r && r.last ? t('mem.again') : t('mem.measure'));
    const parts = [];
    if (!r || !r.last) parts.push(h('p', { class: 'muted' }, t('mem.hint')));
    if (r && r.last) {
      const d = r.last.data;
      const b = r.before && r.before.data;
      const change = (key) => {
        if (!b || b[key] === d[key]) return null;
        const delta = d[key] - b[key];
        return h('span', { class: `mem-delta ${delta > 0 ? 'up' : 'down'}` },
          t('mem.change', { delta: `${delta > 0 ? '+' : '−'}${fmtBytes(Math.abs(delta))}`, time: fmtTime(r.before.at).slice(0, 8) }));
      };
      const rows = [['USS', 'uss', 'mem.ussShort', 'mem.uss'], [t('mem.shared'), 'shared', 'mem.sharedShort', 'mem.sharedWhy'],
        ['PSS', 'pss', 'mem.pssShort', 'mem.pss'], ['RSS', 'rss', 'mem.rssShort', 'mem.rss'], ['Swap', 'swap', null, null]];
      parts.push(h('table', { class: 'mem-table' }, h('tbody', null, rows.map(([label, key, short, why]) => h('tr', { title: why ? t(why) : null },
        h('th', null, label), h('td', { class: 'num' }, fmtBytes(d[key])),
        h('td', null, short ? h('span', { class: 'muted' }, t(short)) : null, ' ', change(key)))))));
      parts.push(h('p', { class: 'muted' }, t('mem.note'), ' ', t('mem.at', { time: fmtTime(r.last.at).slice(0, 8) })));
    }
    if (r && r.error) parts.push(h('p', { class: 'muted' }, r.error));
    parts.push(button);
    return parts;
  }
}
