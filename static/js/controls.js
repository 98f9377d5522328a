// Signal picker (every signal with its default action), "to this process (like kill)" or
// "to its group (like the keyboard)", quick Stop / Continue / Kill, and renice.
// Hidden in watch-only mode (class "control").

import { h, fill } from './dom.js';
import { t, L, onLang } from './i18n.js';
import { api } from './api.js';
import { attempt, toast } from './toast.js';
import { DEFAULT_ACTIONS } from './explain.js';

export class Controls {
  constructor(store) {
    this.store = store;
    this.obj = null;
    this.el = h('section', { class: 'controls control', 'aria-label': t('ctl.title') });
    this.chosen = 'SIGTERM';
    this.target = 'pid';
    this.build();
    store.on('signals', () => this.build());
    onLang(() => this.build());
  }

  build() {
    const options = this.store.signals.map((s) => h('option', { value: s.name, selected: s.name === this.chosen },
      `${s.number} ${s.name} — ${L(DEFAULT_ACTIONS[s.default]) || s.default}${s.catchable ? '' : ` (${t('ctl.uncatchable')})`}`));
    this.select = h('select', { id: 'signal-select', 'aria-label': t('ctl.signal'),
      onchange: (e) => { this.chosen = e.target.value; } }, options);
    const radio = (value, label) => h('label', { class: 'radio' },
      h('input', { type: 'radio', name: 'sig-target', value, checked: this.target === value,
        onchange: () => { this.target = value; } }),
      h('span', { class: 'radio-label' }, label));
    this.groupLabel = h('span');
    this.send = h('button', { class: 'btn btn-primary', id: 'send-signal', onclick: () => this.sendChosen() }, t('ctl.send'));
    this.nice = h('input', { type: 'number', min: -20, max: 19, step: 1, value: 0, id: 'nice-input',
      'aria-label': t('ctl.nice'), class: 'num-input' });
    this.note = h('p', { class: 'ctl-note', hidden: true });
    this.quick = [
      h('button', { class: 'btn', 'data-signal': 'SIGSTOP', title: 'SIGSTOP', onclick: () => this.quickSend('SIGSTOP') }, t('ctl.stop')),
      h('button', { class: 'btn', 'data-signal': 'SIGCONT', title: 'SIGCONT', onclick: () => this.quickSend('SIGCONT') }, t('ctl.cont')),
      h('button', { class: 'btn btn-danger', 'data-signal': 'SIGKILL', title: 'SIGKILL', onclick: () => this.quickSend('SIGKILL') }, t('ctl.kill')),
    ];
    this.reniceBtn = h('button', { class: 'btn', onclick: () => this.renice() }, t('ctl.renice'));
    fill(this.el, 
      h('h3', null, t('ctl.title')),
      this.note,
      h('div', { class: 'ctl-row' }, this.select),
      h('div', { class: 'ctl-targets' },
        radio('pid', t('ctl.toPid')),
        h('label', { class: 'radio' },
          h('input', { type: 'radio', name: 'sig-target', value: 'group', checked: this.target === 'group',
            onchange: () => { this.target = 'group'; } }),
          this.groupLabel)),
      h('div', { class: 'ctl-row' }, this.send),
      h('div', { class: 'ctl-row ctl-quick' }, this.quick),
      h('div', { class: 'ctl-row ctl-nice' }, h('label', { for: 'nice-input' }, t('ctl.nice')), this.nice, this.reniceBtn));
    this.setTarget(this.obj, true);
  }

  // The process the controls act on; `force` refreshes even if it is the same one.
  setTarget(obj, force = false) {
    const changed = force || !this.obj || !obj || obj.pid !== this.obj.pid;
    this.obj = obj;
    if (!obj) return;
    this.groupLabel.textContent = t('ctl.toGroup', { pgid: obj.pgid });
    if (changed && document.activeElement !== this.nice) this.nice.value = obj.nice ?? 0;
    const gone = this.store.isGone(obj.pid);
    let note = null;
    if (obj.pid === this.store.launcherPid) note = t('ctl.noteInit');
    else if (gone) note = t('ctl.noteGone');
    else if (obj.state === 'Z') note = t('ctl.noteZombie');
    this.note.hidden = !note;
    this.note.textContent = note || '';
    const off = obj.pid === this.store.launcherPid || gone || obj.state === 'Z';   // the server refuses these
    for (const el of [this.send, this.reniceBtn, this.nice, this.select, ...this.quick]) el.disabled = off;
    this.el.classList.toggle('off', off);     // nothing to do: only the note stays
  }

  async post(signal, target) {
    const pid = this.obj.pid;
    const res = await attempt(t('ctl.failed', { signal, pid }), () => api.signal(pid, signal, target));
    if (res) {
      const whom = target === 'group' ? t('ctl.group', { pgid: res.pgid }) : String(pid);
      toast(`${signal} → ${whom}`, { kind: 'ok' });
    }
  }

  sendChosen() { if (this.obj && !this.send.disabled) this.post(this.chosen, this.target); }
  quickSend(signal) { if (this.obj && !this.send.disabled) this.post(signal, 'pid'); }

  async renice() {
    if (!this.obj) return;
    const nice = Number(this.nice.value);
    if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
      toast(t('ctl.niceRange'), { kind: 'error', title: t('ctl.renice') });
      return;
    }
    const pid = this.obj.pid;
    const res = await attempt(t('ctl.reniceFailed', { pid }), () => api.renice(pid, nice));
    if (res) toast(`renice ${nice} ${pid}`, { kind: 'ok' });
  }
}
