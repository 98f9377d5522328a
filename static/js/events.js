// The events log: program output (with pid and role), lifecycle, signals, state and sockets.
// Filter by run and kind, pause, clear, export as text.  At most MAX lines are kept.

import { h, clear, fmtTime, download, fill } from './dom.js';
import { t, onLang } from './i18n.js';
import { roleText } from './procinfo.js';
import { CATEGORY, ICON, isNoise, eventText } from './eventfmt.js';

const MAX = 1000;
const MAX_KEYS = 4000;
const HOLD_MS = 800;
const CATS = ['output', 'life', 'control', 'state'];

export class EventsView {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.entries = [];              // {e, cat, key}
    this.keys = new Set();
    this.spawnSeen = new Set();
    this.holding = new Map();        // pid -> a held 'reaped'/'gone' event
    this.filterRun = 'all';
    this.cats = new Set(CATS);
    this.paused = false;
    this.unseen = 0;
    this.list = h('ol', { class: 'event-list', 'aria-live': 'off' });
    this.bar = h('div', { class: 'event-bar' });
    this.head = h('div', { class: 'panel-head' });
    fill(host, this.head, this.bar, this.list);
    store.on('event', ({ event }) => this.add(event));
    store.on('runs', () => {
      const ids = [...store.runs.keys()].join(',');
      if (ids !== this.runIds) { this.runIds = ids; this.renderBar(); }
    });
    onLang(() => { this.renderBar(); this.renderAll(); });
    this.renderBar();
  }

  // The sampler's "reaped"/"gone" is a guess made from two samples; lab init's "exited" is
  // the truth (status and reaper).  Hold the guess briefly and drop it if the truth comes.
  add(e) {
    if ((e.kind === 'reaped' || e.kind === 'gone') && !e.held) {
      const held = { ...e, held: true };
      this.holding.set(e.pid, held);
      setTimeout(() => { if (this.holding.get(e.pid) === held) { this.holding.delete(e.pid); this.add(held); } }, HOLD_MS);
      return;
    }
    if (e.kind === 'exited') this.holding.delete(e.pid);
    this.addNow(e);
  }

  addNow(e) {
    const key = `${e.t}|${e.kind}|${e.pid}|${e.text}`;
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.values().next().value);
    if (e.kind === 'spawned' || e.kind === 'root') this.spawnSeen.add(e.pid);
    if (this.spawnSeen.size > MAX_KEYS) this.spawnSeen.delete(this.spawnSeen.values().next().value);
    if (isNoise(e, this.spawnSeen)) return;
    const entry = { e, cat: CATEGORY[e.kind] || 'state', text: eventText(e, this.store.launcherPid) };
    this.entries.push(entry);
    let dropped = 0;
    while (this.entries.length > MAX) { this.entries.shift(); dropped += 1; }
    if (this.paused) { this.unseen += 1; this.renderHead(); return; }
    if (!this.visible(entry)) { this.trim(dropped); return; }
    const stick = this.atBottom();
    this.list.append(this.row(entry));
    this.trim(dropped);
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  trim() {
    while (this.list.children.length > MAX) this.list.firstElementChild.remove();
  }

  atBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
  }

  visible(entry) {
    const e = entry.e;
    if (this.filterRun !== 'all' && e.run !== this.filterRun) return false;
    return entry.cat === 'error' || this.cats.has(entry.cat);
  }

  row(entry) {
    const e = entry.e;
    const pidPart = e.pid ? [h('span', { class: 'ev-pid' }, e.pid), e.role ? h('span', { class: 'ev-role' }, roleText(e.role)) : null] : null;
    return h('li', { class: `ev ev-${entry.cat} kind-${e.kind}`, 'data-kind': e.kind, 'data-run': e.run ?? '' },
      h('time', { class: 'ev-time' }, fmtTime(e.t || Date.now() / 1000)),
      h('span', { class: 'ev-run' }, e.run || ''),
      h('span', { class: 'ev-who' }, pidPart),
      h('span', { class: 'ev-icon', 'aria-hidden': 'true' }, ICON[e.kind] || '·'),
      h('span', { class: 'ev-text' }, entry.text));
  }

  renderAll() {
    for (const entry of this.entries) entry.text = eventText(entry.e, this.store.launcherPid);
    const frag = document.createDocumentFragment();
    for (const entry of this.entries) if (this.visible(entry)) frag.append(this.row(entry));
    fill(this.list, frag);
    this.list.scrollTop = this.list.scrollHeight;
  }

  renderHead() {
    fill(this.head, h('h2', null, t('ev.title')),
      this.unseen ? h('span', { class: 'ev-unseen' }, t('ev.unseen', { n: this.unseen })) : null,
      h('div', { class: 'spacer' }),
      h('button', { class: `btn btn-small${this.paused ? ' active' : ''}`, 'data-ev': 'pause', 'aria-pressed': String(this.paused),
        onclick: () => this.setPaused(!this.paused) }, this.paused ? t('ev.resume') : t('ev.pause')),
      h('button', { class: 'btn btn-small', 'data-ev': 'clear', onclick: () => this.clearLog() }, t('ev.clear')),
      h('button', { class: 'btn btn-small', 'data-ev': 'export', onclick: () => this.exportText() }, t('ev.export')));
  }

  renderBar() {
    this.renderHead();
    const runs = [...this.store.runs.keys()];
    if (this.filterRun !== 'all' && !runs.includes(this.filterRun)) runs.push(this.filterRun);
    const select = h('select', { class: 'ev-run-filter', 'aria-label': t('ev.filterRun'),
      onchange: (e) => { this.filterRun = e.target.value; this.renderAll(); } },
    h('option', { value: 'all', selected: this.filterRun === 'all' }, t('ev.allRuns')),
    runs.map((id) => h('option', { value: id, selected: id === this.filterRun }, id)));
    const toggles = CATS.map((cat) => h('button', {
      class: `chip-toggle cat-${cat}${this.cats.has(cat) ? ' on' : ''}`, 'aria-pressed': String(this.cats.has(cat)),
      onclick: () => { if (this.cats.has(cat)) this.cats.delete(cat); else this.cats.add(cat); this.renderBar(); this.renderAll(); },
    }, t(`ev.cat.${cat}`)));
    fill(this.bar, select, ...toggles);
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  setPaused(paused) {
    this.paused = paused;
    if (!paused) { this.unseen = 0; this.renderAll(); }
    this.renderHead();
  }

  clearLog() {
    this.entries = [];
    this.unseen = 0;
    clear(this.list);
    this.renderHead();
  }

  exportText() {
    const lines = this.entries.filter((x) => this.visible(x)).map(({ e, text }) =>
      [fmtTime(e.t || 0), e.run || '-', e.pid ?? '-', e.role || '', e.kind, text].join('\t'));
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    download(`proclab-events-${stamp}.txt`, `${lines.join('\n')}\n`);
  }
}
