// "Type into its stdin": a client "add client" started (a chat member, say) prints on the
// run's terminal but does not own its keyboard (the run's foreground program does), so
// lab init gives it a stdin of its own, a pipe; this box types a line into it.  For a
// helper's children (a chat member's sending child) it types into the helper's.
// Hidden in watch-only mode (class "control").

import { h, fill } from './dom.js';
import { t, onLang } from './i18n.js';
import { api } from './api.js';
import { attempt, toast } from './toast.js';

export class StdinBox {
  constructor(store) {
    this.store = store;
    this.helper = null;             // {run, pid} of the helper whose stdin we type into
    this.input = h('input', { type: 'text', class: 'stdin-input', maxlength: 1000,
      onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); this.send(); } } });
    this.el = h('section', { class: 'stdin-box control', hidden: true });
    this.build();
    onLang(() => this.build());
  }

  build() {
    this.input.placeholder = t('stdin.placeholder');
    this.input.setAttribute('aria-label', t('stdin.title'));
    this.label = h('p', { class: 'stdin-label' });
    fill(this.el, h('h3', null, t('stdin.title')), this.label,
      h('div', { class: 'stdin-row' }, this.input, h('button', { class: 'btn', onclick: () => this.send() }, t('stdin.send'))));
    this.setTarget(this.obj || null);
  }

  // The helper among obj and its ancestors (lab init started it into the run), or null.
  helperOf(obj) {
    for (let p = obj, hops = 0; p && hops < 8; p = this.store.proc(p.ppid), hops += 1) {
      if (this.store.isHelper(p)) return p;
      if (p.ppid === this.store.launcherPid) return null;
    }
    return null;
  }

  setTarget(obj) {
    this.obj = obj;
    const helper = obj && !this.store.isGone(obj.pid) ? this.helperOf(obj) : null;
    this.helper = helper && { run: helper.run, pid: helper.pid };
    this.el.hidden = !helper;
    if (helper) this.label.textContent = t(helper.pid === obj.pid ? 'stdin.hint' : 'stdin.hintParent', { pid: helper.pid });
  }

  async send() {
    const text = this.input.value;
    if (!this.helper || !text.trim()) return;
    const { run, pid } = this.helper;
    const res = await attempt(t('stdin.failed', { pid }), () => api.typeInto(run, pid, `${text}\n`));
    if (res) {
      this.input.value = '';
      toast(t('stdin.sent', { pid }), { kind: 'ok' });
    }
  }
}
