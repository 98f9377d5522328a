// Keyboard shortcuts and the help overlay that lists them.
import { h, typingIn, fill } from './dom.js';
import { t, L, onLang, getLang, setLang } from './i18n.js';
import { STATE_SHORT } from './explain.js';

// [keys shown, i18n key of what it does, needs control?]
const SHORTCUTS = [
  ['?', 'key.help', false], ['P', 'key.projector', false], ['L', 'key.labs', false],
  ['Shift+L', 'key.lang', false], ['T', 'key.table', false], ['S', 'key.source', false],
  ['J / ↓', 'key.next', false], ['K / ↑', 'key.prev', false], ['R', 'key.run', false],
  ['E', 'key.pause', false], ['Esc', 'key.esc', false],
  ['C', 'key.ctrlC', true], ['\\', 'key.ctrlBackslash', true], ['Z', 'key.ctrlZ', true],
  ['Shift+S', 'key.sigstop', true], ['Shift+C', 'key.sigcont', true], ['Shift+K', 'key.sigkill', true],
];

export function setupKeys(store, ui) {
  const overlay = document.getElementById('help');

  function renderHelp() {
    const rows = SHORTCUTS.filter(([, , ctl]) => ui.canControl || !ctl)
      .map(([keys, what]) => h('tr', null, h('td', null, keys.split(' / ').map((k, i) => [i ? ' / ' : '', h('kbd', null, k)])),
        h('td', null, t(what))));
    const legend = Object.entries(STATE_SHORT).map(([s, name]) => h('li', null,
      h('span', { class: `stat-badge st-${s}` }, s), ' ', L(name)));
    fill(overlay, h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'help-title' },
      h('div', { class: 'dialog-head' }, h('h2', { id: 'help-title' }, t('help.title')),
        h('button', { class: 'btn btn-small', onclick: () => ui.toggleHelp(false), 'aria-label': t('toast.close') }, '×')),
      h('div', { class: 'dialog-body' },
        h('div', null, h('h3', null, t('help.keys')), h('table', { class: 'keys' }, h('tbody', null, rows))),
        h('div', null,
          h('h3', null, t('help.colours')), h('ul', { class: 'legend-list' }, legend,
            h('li', null, h('span', { class: 'tag tag-zombie' }, t('tag.zombie')), ' ', t('help.zombie')),
            h('li', null, h('span', { class: 'tag tag-orphan' }, t('tag.orphan')), ' ', t('help.orphan'))),
          h('h3', null, t('help.how')),
          h('ol', { class: 'how' }, ['help.step1', 'help.step2', 'help.step3', 'help.step4'].map((k) => h('li', null, t(k))))))));
  }
  onLang(() => { if (!overlay.hidden) renderHelp(); });
  overlay.addEventListener('click', (e) => { if (e.target === overlay) ui.toggleHelp(false); });
  ui.renderHelp = renderHelp;

  function move(delta) {
    const order = ui.tree.order.filter((pid) => store.procs.has(pid));
    if (!order.length) return;
    const i = order.indexOf(store.selectedPid);
    const next = i < 0 ? order[delta > 0 ? 0 : order.length - 1] : order[Math.max(0, Math.min(order.length - 1, i + delta))];
    store.select(next);
  }

  function cycleRun() {
    const ids = [...store.runs.values()].filter((r) => r.state !== 'ended').map((r) => r.id);
    if (!ids.length) return;
    const i = ids.indexOf(store.selectedRun);
    store.selectRun(ids[(i + 1) % ids.length]);
  }

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target)) return;
    const ctl = ui.canControl;
    const key = e.key;
    const act = {
      '?': () => ui.toggleHelp(),
      p: () => ui.setProjector(!ui.projector),
      l: () => ui.toggleLabs(),
      L: () => setLang(getLang() === 'zh' ? 'en' : 'zh'),
      t: () => ui.nextView(),
      s: () => ui.toggleSource(),
      j: () => move(1), ArrowDown: () => move(1),
      k: () => move(-1), ArrowUp: () => move(-1),
      r: () => cycleRun(),
      e: () => ui.events.setPaused(!ui.events.paused),
      Escape: () => { if (!overlay.hidden) ui.toggleHelp(false); else if (ui.projector && ui.labsOpen) ui.toggleLabs(false); else store.select(null); },
      c: ctl && (() => ui.terminals.sendKey('ctrl_c')),
      '\\': ctl && (() => ui.terminals.sendKey('ctrl_backslash')),
      z: ctl && (() => ui.terminals.sendKey('ctrl_z')),
      S: ctl && (() => ui.details.controls.quickSend('SIGSTOP')),
      C: ctl && (() => ui.details.controls.quickSend('SIGCONT')),
      K: ctl && (() => ui.details.controls.quickSend('SIGKILL')),
    }[key];
    if (!act) return;
    if ((key === 'ArrowDown' || key === 'ArrowUp') && e.target.closest && e.target.closest('.inspector, .event-list, .source')) return;
    e.preventDefault();
    act();
  });
}
