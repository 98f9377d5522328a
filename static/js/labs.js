// The labs: title and summary; open one to read its explanation, set its
// parameters (bounded inputs) and start it.  Starting fires 'run-started'.

import { h, fill } from './dom.js';
import { t, L, onLang } from './i18n.js';
import { api } from './api.js';
import { attempt, toast } from './toast.js';

export class LabsView {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.open = null;                 // name of the expanded lab
    this.values = new Map();          // lab -> {param: value}, kept while the page lives
    store.on('labs', () => this.render());
    store.on('selectrun', (run) => {  // show the explanation of the lab being watched
      const lab = this.store.runs.get(run)?.lab;
      if (lab && lab !== this.open) { this.open = lab; this.render(); }
    });
    store.on('runs', () => {          // only when a lab's count of live runs changed: keep focus
      const counts = this.liveCounts();
      if (counts !== this.counts) this.render();
    });
    onLang(() => this.render());
    this.render();
  }

  liveCounts() {
    return [...this.store.runs.values()].filter((r) => r.state !== 'ended').map((r) => r.lab).sort().join(',');
  }

  render() {
    this.counts = this.liveCounts();
    const labs = this.store.labs;
    const list = h('ol', { class: 'lab-list' }, labs.map((lab) => this.item(lab)));
    fill(this.host, 
      h('div', { class: 'panel-head' }, h('h2', null, t('labs.title')),
        h('span', { class: 'muted small' }, labs.length ? t('labs.count', { n: labs.length }) : '')),
      labs.length ? list : h('p', { class: 'muted pad' }, t('labs.loading')));
    const open = this.host.querySelector('.lab.open');
    if (open) open.scrollIntoView({ block: 'nearest' });
  }

  item(lab) {
    const isOpen = lab.name === this.open;
    const live = [...this.store.runs.values()].filter((r) => r.lab === lab.name && r.state !== 'ended').length;
    const head = h('button', {
      class: 'lab-head', 'aria-expanded': String(isOpen), 'data-lab': lab.name,
      onclick: () => { this.open = isOpen ? null : lab.name; this.render(); },
    },
    h('span', { class: 'lab-title' }, L(lab.title)),
    live ? h('span', { class: 'lab-live', title: t('labs.running', { n: live }) }, `● ${live}`) : null,
    h('span', { class: 'lab-summary' }, L(lab.summary)));
    return h('li', { class: `lab${isOpen ? ' open' : ''}`, 'data-lab': lab.name },
      head, isOpen ? this.body(lab) : null);
  }

  body(lab) {
    const values = this.values.get(lab.name) || {};
    this.values.set(lab.name, values);
    const inputs = lab.params.map((p) => this.input(lab, p, values));
    const start = h('button', { class: 'btn btn-primary btn-start control', 'data-start': lab.name,
      onclick: () => this.start(lab, start) }, `▶ ${t('labs.start')}`);
    return h('div', { class: 'lab-body' },
      h('p', { class: 'lab-explain' }, L(lab.explain)),
      inputs.length ? h('form', { class: 'params control', onsubmit: (e) => { e.preventDefault(); this.start(lab, start); } },
        inputs) : null,
      h('div', { class: 'lab-actions' }, start,
        h('code', { class: 'lab-cmd', title: t('labs.cmdHint') }, `python -m ${lab.module}`)));
  }

  input(lab, p, values) {
    const id = `p-${lab.name}-${p.name}`;
    const value = values[p.name] ?? p.default;
    let field;
    if (p.type === 'choice') {
      field = h('select', { id, onchange: (e) => { values[p.name] = e.target.value; } },
        p.choices.map((c) => h('option', { value: c, selected: c === value }, c)));
    } else {
      field = h('input', {
        id, type: 'number', value, min: p.min ?? undefined, max: p.max ?? undefined,
        step: p.type === 'int' ? 1 : 'any', required: true, class: 'num-input',
        oninput: (e) => { values[p.name] = e.target.value; e.target.setCustomValidity(''); },
      });
    }
    const range = p.type === 'choice' ? '' : `${p.min ?? ''}–${p.max ?? ''}`;
    return h('div', { class: 'param' },
      h('label', { for: id }, L(p.label) || p.name, range ? h('span', { class: 'range' }, range) : null),
      field,
      h('small', { class: 'help' }, L(p.help)));
  }

  // Read the form, check bounds here (the server checks again), start.
  params(lab) {
    const out = {};
    for (const p of lab.params) {
      const el = this.host.querySelector(`#p-${lab.name}-${p.name}`);
      if (!el) continue;
      if (p.type === 'choice') { out[p.name] = el.value; continue; }
      const n = Number(el.value);
      const bad = el.value.trim() === '' || !Number.isFinite(n) || (p.type === 'int' && !Number.isInteger(n))
        || (p.min !== null && n < p.min) || (p.max !== null && n > p.max);
      if (bad) {
        el.setCustomValidity(t('labs.bounds', { min: p.min, max: p.max }));
        el.reportValidity();
        throw new Error(t('labs.badParam', { name: L(p.label) || p.name, min: p.min, max: p.max }));
      }
      out[p.name] = n;
    }
    return out;
  }

  async start(lab, button) {
    let params;
    try { params = this.params(lab); } catch (err) {
      toast(err.message, { kind: 'error', title: t('labs.cannotStart', { lab: L(lab.title) }) });
      return;
    }
    button.disabled = true;
    const res = await attempt(t('labs.cannotStart', { lab: L(lab.title) }), () => api.start(lab.name, params));
    button.disabled = false;
    if (res) this.host.dispatchEvent(new CustomEvent('run-started', { bubbles: true, detail: res }));
  }
}
