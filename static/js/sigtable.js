// Every signal, its default action, and what this process does with it:
// caught (a handler), ignored or default; blocked; pending.
import { h } from './dom.js';
import { t, L } from './i18n.js';
import { DEFAULT_ACTIONS, SIGNAL_MEANING } from './explain.js';

export function signalTable(signals, obj, showRealtime) {
  const caught = new Set(obj.signals?.caught || []);
  const ignored = new Set(obj.signals?.ignored || []);
  const blocked = new Set(obj.signals?.blocked || []);
  const pending = new Set(obj.signals?.pending || []);
  const rows = [];
  for (const s of signals) {
    const rt = s.number >= 32;
    const interesting = caught.has(s.name) || ignored.has(s.name) || blocked.has(s.name) || pending.has(s.name);
    if (rt && !showRealtime && !interesting) continue;
    let disp;
    if (!s.catchable) disp = h('span', { class: 'disp disp-locked', title: t('sig.uncatchable') }, t('sig.always'));
    else if (caught.has(s.name)) disp = h('span', { class: 'disp disp-caught' }, t('sig.caught'));
    else if (ignored.has(s.name)) disp = h('span', { class: 'disp disp-ignored' }, t('sig.ignored'));
    else disp = h('span', { class: 'disp disp-default' }, t('sig.default'));
    const cls = [];
    if (caught.has(s.name)) cls.push('row-caught');
    if (ignored.has(s.name)) cls.push('row-ignored');
    if (pending.has(s.name)) cls.push('row-pending');
    rows.push(h('tr', { class: cls.join(' ') },
      h('td', { class: 'num' }, s.number),
      h('td', { class: 'signame', title: L(SIGNAL_MEANING[s.name]) || '' }, s.name),
      h('td', null, L(DEFAULT_ACTIONS[s.default]) || s.default),
      h('td', null, disp,
        blocked.has(s.name) ? h('span', { class: 'disp disp-blocked' }, t('sig.blocked')) : null,
        pending.has(s.name) ? h('span', { class: 'disp disp-pending' }, t('sig.pending')) : null)));
  }
  return h('table', { class: 'sigtable' },
    h('thead', null, h('tr', null,
      h('th', { class: 'num' }, '#'), h('th', null, t('sig.name')), h('th', null, t('sig.defaultAction')),
      h('th', null, t('sig.thisProcess')))),
    h('tbody', null, rows));
}

// One line summary: "handles SIGUSR1 · ignores SIGINT, SIGQUIT"
export function signalSummary(obj) {
  const parts = [];
  const s = obj.signals || {};
  const own = (list) => (list || []).filter((n) => !['SIGPIPE', 'SIGXFSZ'].includes(n));
  if (own(s.caught).length) parts.push(`${t('sig.handles')} ${own(s.caught).join(', ')}`);
  if (own(s.ignored).length) parts.push(`${t('sig.ignores')} ${own(s.ignored).join(', ')}`);
  if ((s.blocked || []).length) parts.push(`${t('sig.blocks')} ${s.blocked.join(', ')}`);
  if ((s.pending || []).length) parts.push(`${t('sig.pendingNow')} ${s.pending.join(', ')}`);
  return parts;
}
