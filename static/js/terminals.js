// Each run's terminal (xterm.js): replayed from GET /api/runs/<id>/terminal, then fed by
// the websocket's terminal frames.  Typing goes to the run; the buttons send Ctrl-C,
// Ctrl-\, Ctrl-Z and Ctrl-D as the keyboard would (the line discipline makes the signals).
// Kept: every live run's terminal and the last few ended ones.

import { h, fill } from './dom.js';
import { t, onLang } from './i18n.js';
import { api } from './api.js';
import { attempt, toastError } from './toast.js';
import { runLabel } from './procinfo.js';
import { reasonText } from './eventfmt.js';

const KEEP_ENDED = 4;
const THEME = {
  background: '#14181f', foreground: '#e6e9ef', cursor: '#e6e9ef', selectionBackground: '#3b4a63',
  black: '#1c2230', brightBlack: '#5c6370', red: '#ff7b72', green: '#7ee787', yellow: '#e3b341',
  blue: '#79c0ff', magenta: '#d2a8ff', cyan: '#76e3ea', white: '#e6e9ef',
};
const KEYS = [['ctrl_c', 'Ctrl-C', 'term.ctrlC'], ['ctrl_backslash', 'Ctrl-\\', 'term.ctrlBackslash'],
  ['ctrl_z', 'Ctrl-Z', 'term.ctrlZ'], ['ctrl_d', 'Ctrl-D', 'term.ctrlD']];

class RunTerm {
  constructor(run, canControl, fontSize, onInput) {
    this.run = run;
    this.el = h('div', { class: 'xterm-host', 'data-run': run, hidden: true });
    this.term = new window.Terminal({
      convertEol: false, cursorBlink: false, scrollback: 3000, fontSize, lineHeight: 1.15,
      fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK SC", "Noto Sans CJK SC", ui-monospace, Menlo, Consolas, monospace',
      theme: THEME, disableStdin: !canControl, rows: 12, cols: 100,
    });
    this.fit = new window.FitAddon.FitAddon();
    this.term.loadAddon(this.fit);
    if (canControl) this.term.onData((data) => onInput(run, data));
    this.opened = false;
    this.loading = false;
    this.waiting = [];      // frames that came while the replay was on its way
    this.generation = 0;
  }

  show(visible) {
    this.el.hidden = !visible;
    if (!visible) return;
    if (!this.opened) { this.term.open(this.el); this.opened = true; }
    this.resize();
    requestAnimationFrame(() => this.resize());        // once the layout has settled
  }

  resize() {
    if (!this.opened || this.el.hidden || !this.el.clientWidth) return;
    try { this.fit.fit(); } catch { /* not measurable yet */ }
  }

  // Replay what the run printed so far, then the frames that came meanwhile (minus the overlap).
  async replay() {
    const gen = ++this.generation;
    this.loading = true;
    this.waiting = [];
    let res = null;
    try { res = await api.terminal(this.run); } catch { /* an old run the server forgot */ }
    if (gen !== this.generation) return;
    const tail = this.waiting.join('');
    this.loading = false;
    this.waiting = [];
    if (!res) { this.term.write(tail); return; }
    this.term.reset();
    this.term.write(res.data);
    let k = Math.min(tail.length, res.data.length);
    while (k > 0 && !res.data.endsWith(tail.slice(0, k))) k -= 1;
    this.term.write(tail.slice(k));
  }

  write(data) {
    if (this.loading) this.waiting.push(data);
    else this.term.write(data);
  }

  dispose() {
    this.term.dispose();
    this.el.remove();
  }
}

export class TerminalsView {
  constructor(host, store, canControl) {
    this.host = host;
    this.store = store;
    this.canControl = canControl;
    this.terms = new Map();
    this.current = null;
    this.fontSize = 13;
    this.pending = new Map();      // run -> typed text not yet sent
    this.title = h('h2', { class: 'term-title' });
    this.status = h('span', { class: 'term-status' });
    this.keys = h('div', { class: 'term-keys control' });
    this.body = h('div', { class: 'term-body' });
    this.empty = h('div', { class: 'term-empty' });
    fill(host, h('div', { class: 'panel-head' }, this.title, this.status, h('div', { class: 'spacer' }), this.keys),
      this.body);
    this.body.append(this.empty);
    this.renderKeys();
    store.on('terminal', ({ run, data }) => this.onFrame(run, data));
    store.on('snapshot', () => { for (const rt of this.terms.values()) if (!rt.loading) rt.replay(); });
    store.on('runs', () => this.sync());
    store.on('selectrun', () => this.sync());
    store.on('labs', () => this.sync());
    onLang(() => { this.renderKeys(); this.sync(); });
    new ResizeObserver(() => this.terms.get(this.current)?.resize()).observe(this.body);
    document.fonts?.ready.then(() => { for (const rt of this.terms.values()) rt.resize(); });
  }

  renderKeys() {
    fill(this.keys, ...KEYS.map(([key, label, help]) => h('button', {
      class: 'btn btn-key', 'data-key': key, title: t(help), onclick: () => this.sendKey(key),
    }, label)));
  }

  setFontSize(size) {
    this.fontSize = size;
    for (const rt of this.terms.values()) { rt.term.options.fontSize = size; rt.resize(); }
  }

  ensure(run) {
    let rt = this.terms.get(run);
    if (!rt) {
      if (typeof window.Terminal !== 'function') return null;
      rt = new RunTerm(run, this.canControl, this.fontSize, (r, d) => this.type(r, d));
      this.terms.set(run, rt);
      this.body.append(rt.el);
      rt.replay();
    }
    return rt;
  }

  onFrame(run, data) {
    const known = this.terms.get(run);
    if (known) known.write(data);
    else this.ensure(run);          // its replay already holds this frame
  }

  // Keep the terminals of live runs and the last few ended ones; show the selected run's.
  sync() {
    const runs = [...this.store.runs.values()];
    const ended = runs.filter((r) => r.state === 'ended').slice(-KEEP_ENDED).map((r) => r.id);
    const keep = new Set([...runs.filter((r) => r.state !== 'ended').map((r) => r.id), ...ended]);
    if (this.store.selectedRun && this.store.runs.has(this.store.selectedRun)) keep.add(this.store.selectedRun);
    for (const id of keep) this.ensure(id);
    for (const [id, rt] of this.terms) if (!keep.has(id)) { rt.dispose(); this.terms.delete(id); }
    const sel = this.store.selectedRun;
    this.current = keep.has(sel) ? sel : null;
    for (const [id, rt] of this.terms) rt.show(id === this.current);
    const run = this.current ? this.store.runs.get(this.current) : null;
    this.title.textContent = run ? `${t('term.title')} · ${run.id} ${runLabel(this.store, run.id)}` : t('term.title');
    this.status.textContent = run ? (run.state === 'ended' ? t('term.ended', { reason: reasonText(run.reason, run.exit) }) : '') : '';
    this.status.title = this.status.textContent;     // all of it, where the head cuts it
    this.status.className = `term-status${run && run.state === 'ended' ? ' ended' : ''}`;
    const live = run && run.state !== 'ended';
    for (const b of this.keys.querySelectorAll('button')) b.disabled = !live;
    this.keys.classList.toggle('over', !!run && !live);     // an ended run's head has room for why
    this.empty.hidden = !!run;
    this.empty.textContent = t('term.empty');
  }

  type(run, data) {
    const r = this.store.runs.get(run);
    if (!r || r.state === 'ended') return;
    this.pending.set(run, (this.pending.get(run) || '') + data);
    clearTimeout(this.typeTimer);
    this.typeTimer = setTimeout(() => this.flush(), 25);
  }

  async flush() {
    for (const [run, text] of this.pending) {
      this.pending.delete(run);
      for (let i = 0; i < text.length; i += 4000) {
        try { await api.type(run, text.slice(i, i + 4000)); } catch (err) { toastError(t('term.typeFailed'), err); return; }
      }
    }
  }

  async sendKey(key) {
    const run = this.current;
    if (!run) return;
    await attempt(t('term.keyFailed', { key }), () => api.key(run, key));
  }

  focus() {
    this.terms.get(this.current)?.term.focus();
  }
}
