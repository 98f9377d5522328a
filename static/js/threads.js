// The threads of the selected process (its `tasks`): TID, name, state, what it waits
// for, %CPU — as `ps -L` lists them.  CPU cells are updated in place every tick.  The
// name is the kernel's (comm: "python" for every Python thread) unless the thread has
// said a line, whose event carries its threading name.

import { h } from './dom.js';
import { t, L } from './i18n.js';
import { explainWchan, STATES } from './explain.js';
import { stateClass } from './procinfo.js';

export class ThreadList {
  constructor() {
    this.cpuCells = new Map();      // tid -> its %CPU cell
  }

  // A table for obj.tasks, or null for a single-threaded process.  nameOf(pid, tid): the
  // threading name the thread said lines under, if it did.
  render(obj, nameOf = () => null) {
    this.cpuCells.clear();
    if (!obj.tasks || !obj.tasks.length) return null;
    const rows = obj.tasks.map((task) => {
      const cpu = h('td', { class: 'num' }, task.cpu.toFixed(1));
      this.cpuCells.set(task.tid, cpu);
      const wait = task.state !== 'R' ? explainWchan(task.wchan, null) : null;
      return h('tr', { class: task.tid === obj.pid ? 'main-thread' : null },
        h('td', { class: 'num' }, task.tid),
        h('td', null, nameOf(obj.pid, task.tid) || task.name,
          task.tid === obj.pid ? h('span', { class: 'muted' }, ` (${t('thr.main')})`) : null),
        h('td', { title: L(STATES[task.state] || '') }, h('span', { class: `stat-badge st-${stateClass(task.state)}` }, task.state)),
        h('td', { class: 'thr-wait', title: task.wchan || '' }, wait ? L(wait) : task.wchan || '–'),
        cpu);
    });
    return [
      h('p', { class: 'muted' }, t('thr.note', { n: obj.tasks.length })),
      h('table', { class: 'thr-table' },
        h('thead', null, h('tr', null, ['TID', t('thr.name'), 'S', t('thr.wait'), '%CPU'].map((c) => h('th', null, c)))),
        h('tbody', null, rows)),
    ];
  }

  // Only %CPU moved: no rebuild.
  update(obj) {
    for (const task of obj.tasks || []) {
      const cell = this.cpuCells.get(task.tid);
      if (cell) cell.textContent = task.cpu.toFixed(1);
    }
  }
}
