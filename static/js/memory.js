// Shared and private memory of the selected process, measured when asked
// (GET /api/processes/<pid>/memory reads smaps_rollup: the kernel walks every
// page table, so it is never done per tick).  After fork() the child shares
// its parent's pages; a write copies the page (copy-on-write) and USS grows.

import { h, fmtBytes, fmtTime } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';

export class MemoryPanel {
  constructor(onChange) {
    this.onChange = onChange;       // re-render the details when a measurement lands
    this.result = null;             // {pid, data, at} or {pid, error}
    this.busy = false;
  }

  async measure(pid) {
    this.busy = true;
    this.onChange();
    try {
      this.result = { pid, data: await api.memory(pid), at: Date.now() / 1000 };
    } catch (err) {
      const why = { 404: 'mem.gone', 429: 'mem.busy' }[err.status];
      this.result = { pid, error: why ? t(why) : err.message };
    }
    this.busy = false;
    this.onChange();
  }

  render(obj, gone) {
    const r = this.result && this.result.pid === obj.pid ? this.result : null;
    const button = h('button', { class: 'btn small', disabled: this.busy || gone || obj.state === 'Z', onclick: () => this.measure(obj.pid) },
      r ? t('mem.again') : t('mem.measure'));
    if (!r) return [h('p', { class: 'muted' }, t('mem.hint')), button];
    if (r.error) return [h('p', { class: 'muted' }, r.error), button];
    const d = r.data;
    const rows = [['USS', d.uss, 'mem.uss'], [t('mem.shared'), d.shared, 'mem.sharedWhy'],
      ['PSS', d.pss, 'mem.pss'], ['RSS', d.rss, 'mem.rss'], ['Swap', d.swap, null]];
    return [
      h('dl', { class: 'fields mem' }, rows.map(([k, v, why]) => [h('dt', null, k),
        h('dd', { title: why ? t(why) : null }, fmtBytes(v))])),
      h('p', { class: 'muted' }, t('mem.note'), ' ', t('mem.at', { time: fmtTime(r.at).slice(0, 8) })),
      button,
    ];
  }
}
