// The watched run's lab script, read-only, with line numbers and light Python colouring.
import { h, clear, fill } from './dom.js';
import { t, L, onLang } from './i18n.js';
import { api } from './api.js';

const KEYWORDS = new Set(('False None True and as assert async await break class continue def del elif else except '
  + 'finally for from global if import in is lambda nonlocal not or pass raise return try while with yield').split(' '));
const TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|[rbfu]{0,2}"(?:\\.|[^"\\\n])*"|[rbfu]{0,2}'(?:\\.|[^'\\\n])*')|(\b\d[\d_.]*\b)|([A-Za-z_][A-Za-z0-9_]*)/g;
const CALLS = /^(os|signal|socket|select|time|sys|multiprocessing|threading)$/;

// Python source -> [[text, class], ...] pieces.
function tokens(src) {
  const out = [];
  let last = 0;
  for (const m of src.matchAll(TOKEN)) {
    if (m.index > last) out.push([src.slice(last, m.index), null]);
    const [text, comment, string, number, word] = m;
    let cls = null;
    if (comment) cls = 'py-com';
    else if (string) cls = 'py-str';
    else if (number) cls = 'py-num';
    else if (word && KEYWORDS.has(word)) cls = 'py-kw';
    else if (word && CALLS.test(word)) cls = 'py-mod';
    out.push([text, cls]);
    last = m.index + text.length;
  }
  out.push([src.slice(last), null]);
  return out;
}

// One row per line (number + code), so long lines wrap under their own number; never innerHTML.
function render(src) {
  const rows = [];
  let line = [];
  const flush = () => {
    rows.push(h('div', { class: 'ln' }, h('span', { class: 'ln-n', 'aria-hidden': 'true' }, rows.length + 1),
      h('span', { class: 'ln-c' }, line.length ? line : ' ')));
    line = [];
  };
  for (const [text, cls] of tokens(src)) {
    text.split('\n').forEach((part, i) => {
      if (i > 0) flush();
      if (part) line.push(cls ? h('span', { class: cls }, part) : part);
    });
  }
  flush();
  return rows;
}

export class SourceView {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.cache = new Map();           // lab name -> response
    this.lab = null;
    this.head = h('div', { class: 'src-head' });
    this.code = h('pre', { class: 'source', tabindex: 0 });
    fill(host, this.head, this.code);
    store.on('selectrun', () => this.update());
    store.on('runs', () => this.update());
    store.on('labs', () => this.update());
    onLang(() => { this.lab = null; this.update(); });
  }

  async update() {
    const run = this.store.runs.get(this.store.selectedRun);
    const name = run ? run.lab : null;
    if (name === this.lab) return;
    this.lab = name;
    if (!name) {
      fill(this.head, h('p', { class: 'muted' }, t('src.none')));
      clear(this.code);
      return;
    }
    let res = this.cache.get(name);
    if (!res) {
      fill(this.head, h('p', { class: 'muted' }, t('src.loading')));
      try {
        res = await api.source(name);
        this.cache.set(name, res);
      } catch (err) {
        if (this.lab === name) fill(this.head, h('p', { class: 'error' }, `${t('src.failed')}: ${err.message}`));
        return;
      }
      if (this.lab !== name) return;
    }
    const lab = this.store.labsByName.get(name);
    fill(this.head, 
      h('div', { class: 'src-title' }, h('code', null, res.path), h('span', { class: 'muted small' }, t('src.readonly'))),
      h('p', { class: 'src-run small' }, `$ python -m ${res.module}`),
      lab ? h('p', { class: 'muted small' }, L(lab.summary)) : null);
    fill(this.code, h('code', { class: 'py' }, render(res.source.replace(/\n$/, ''))));
    this.code.scrollTop = 0;
  }
}
