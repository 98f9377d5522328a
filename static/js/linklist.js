// The channels the selected process shares with others of its run (its run's `links`):
// "pipe 81234: fd 5 (writes) → 3120 fd 3 (reads)", a socketpair, shared memory.

import { h } from './dom.js';
import { t } from './i18n.js';
import { TELLING } from './tree-links.js';

const MODE = { r: 'link.reads', w: 'link.writes', rw: 'link.readsWrites' };

// The most telling first (pipes, which every child inherits, last); each kind explained once.

export function linkList(run, pid, pidLink) {
  const mine = (run && run.links || []).filter((l) => l.ends.some((e) => e.pid === pid))
    .sort((a, b) => TELLING.indexOf(a.kind) - TELLING.indexOf(b.kind));
  if (!mine.length) return h('p', { class: 'muted' }, t('link.none'));
  const told = new Set();
  const endText = (e) => [
    e.fd === null ? t('link.mapped') : `fd ${e.fd}`,
    ` (${t(MODE[e.mode] || 'link.readsWrites')})`,
  ].join('');
  return h('ul', { class: 'linklist' }, mine.map((l) => {
    const own = l.ends.filter((e) => e.pid === pid);
    const others = l.ends.filter((e) => e.pid !== pid);
    const byPid = new Map();
    for (const e of others) byPid.set(e.pid, [...(byPid.get(e.pid) || []), e]);
    return h('li', { class: `link-item link-${l.kind}` },
      h('div', { class: 'link-head' },
        h('span', { class: 'link-kind' }, t(`link.${l.kind}Long`)),
        h('code', { class: 'link-id' }, l.kind === 'unix' ? `socket:[${own[0].inode}]` : l.kind === 'pipe' ? `pipe:[${l.id}]` : l.name || l.id)),
      h('div', null, t('link.here'), ' ', own.map(endText).join(', ')),
      [...byPid].map(([other, ends]) => h('div', null, '↔ ', pidLink(other), ' ', ends.map(endText).join(', '))),
      told.has(l.kind) ? null : (told.add(l.kind), h('div', { class: 'muted link-why' }, t(`link.${l.kind}Why`))));
  }));
}
