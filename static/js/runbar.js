// The runs as chips (click to watch one), the watched run's suggested actions
// as buttons, and "stop run".

import { h, clear, fill } from './dom.js';
import { t, L, getLang, onLang } from './i18n.js';
import { api } from './api.js';
import { attempt, toast } from './toast.js';
import { runLabel } from './procinfo.js';
import { reasonText } from './eventfmt.js';

const KEEP_ENDED = 3;
const TERMINAL_KEYS = new Set(['\x03', '\x1c', '\x1a', '\x04']);   // these have buttons on the terminal

export class RunBar {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.chips = h('div', { class: 'run-chips', role: 'tablist', 'aria-label': t('runs.title') });
    this.actions = h('div', { class: 'run-actions control' });
    fill(host, h('span', { class: 'runbar-label' }), this.chips, this.actions);
    for (const ev of ['runs', 'selectrun', 'labs']) store.on(ev, () => this.render());
    onLang(() => this.render());
    this.render();
  }

  render() {
    const store = this.store;
    const runs = [...store.runs.values()];
    const sig = JSON.stringify([getLang(), store.selectedRun, store.labs.length,
      runs.map((r) => [r.id, r.state, r.reason, (r.endpoints || []).map((e) => e.url)])]);
    if (sig === this.sig) return;      // buttons stay put: a click is never lost to a re-render
    this.sig = sig;
    // Live runs first, then the last few ended ones: a new run is never pushed out of sight.
    const ended = new Set(runs.filter((r) => r.state === 'ended').slice(-KEEP_ENDED).map((r) => r.id));
    const shown = [...runs.filter((r) => r.state !== 'ended'),
      ...runs.filter((r) => r.state === 'ended' && (ended.has(r.id) || r.id === store.selectedRun)).reverse()];
    this.host.querySelector('.runbar-label').textContent = t('runs.title');
    fill(this.chips, ...(shown.length ? shown.map((r) => this.chip(r))
      : [h('span', { class: 'muted' }, t('runs.none'))]));
    if (store.selectedRun !== this.revealed) {      // only when the watched run changes: a
      this.revealed = store.selectedRun;            // strip the user scrolled stays where it is
      this.revealSelected();
    }
    this.renderActions();
  }

  // The watched run's chip scrolled into the strip's view (sideways only: the page stays put).
  revealSelected() {
    const chip = this.chips.querySelector('.run-chip.selected');
    if (!chip) return;
    const left = chip.offsetLeft - this.chips.offsetLeft;
    const right = left + chip.offsetWidth;
    if (left < this.chips.scrollLeft) this.chips.scrollLeft = left - 4;
    else if (right > this.chips.scrollLeft + this.chips.clientWidth) this.chips.scrollLeft = right - this.chips.clientWidth + 4;
  }

  chip(run) {
    const selected = run.id === this.store.selectedRun;
    const live = run.state !== 'ended';
    const title = `${runLabel(this.store, run.id)} — ${live ? t('runs.chipLive', { id: run.id }) : t('runs.chipEnded', { id: run.id, reason: reasonText(run.reason, run.exit) })}`;
    return h('div', { class: `run-chip ${live ? 'live' : 'ended'}${selected ? ' selected' : ''}`, 'data-run': run.id },
      h('button', { class: 'chip-main', role: 'tab', 'aria-selected': String(selected), title,
        onclick: () => this.host.dispatchEvent(new CustomEvent('select-run', { bubbles: true, detail: run.id })) },
      h('span', { class: 'chip-dot' }), h('b', null, run.id),
      live || selected ? [' ', runLabel(this.store, run.id)] : null,
      live ? null : h('span', { class: 'chip-ended' }, t('runs.ended'))),
      live ? h('button', { class: 'chip-stop control', title: t('runs.stop', { id: run.id }), 'aria-label': t('runs.stop', { id: run.id }),
        'data-stop': run.id, onclick: () => this.stop(run.id) }, '■') : null);
  }

  renderActions() {
    const run = this.store.runs.get(this.store.selectedRun);
    const lab = run ? this.store.labOf(run.id) : null;
    clear(this.actions);
    if (!run || run.state === 'ended' || !lab) return;
    const buttons = lab.actions.filter((a) => !(a.kind === 'key' && TERMINAL_KEYS.has(a.key)))
      .map((a) => h('button', { class: 'btn btn-action', 'data-action': a.id, title: L(a.help),
        onclick: (e) => this.act(run.id, a, e.currentTarget) }, L(a.label)));
    const page = (run.endpoints || []).find((e) => e.url);
    if (page) {    // a lab web server: the dashboard opens its page for us (it listens on loopback only)
      buttons.push(h('button', { class: 'btn btn-action', 'data-open-page': run.id, title: page.url,
        onclick: () => this.openPage(run.id) }, `↗ ${t('runs.openPage')}`));
    }
    if (buttons.length) this.actions.append(h('span', { class: 'actions-label' }, t('runs.try')), ...buttons);
    this.actions.append(h('button', { class: 'btn btn-stop', 'data-stop-run': run.id, title: t('runs.stop', { id: run.id }),
      onclick: () => this.stop(run.id) }, `■ ${t('runs.stopShort')}`));
  }

  async act(runId, action, button) {
    button.disabled = true;
    const res = await attempt(t('runs.actionFailed', { action: L(action.label) }), () => api.action(runId, action.id));
    button.disabled = false;
    if (res && res.kind === 'signal') toast(`${res.signal} → ${action.role.replace(/\*$/, '')} ${res.pids.join(', ')}`, { kind: 'ok' });
  }

  // A new tab carries no token: it opens a link whose ticket opens this run's page only.
  async openPage(runId) {
    const tab = window.open('about:blank', '_blank');     // now, while the click may open a tab
    const res = await attempt(t('runs.openPageFailed'), () => api.pageLink(runId));
    if (!tab) {
      if (res) location.assign(res.url);
      return;
    }
    if (res) {
      tab.opener = null;                                  // the lab's page may not reach back into ours
      tab.location.href = res.url;
    } else {
      tab.close();
    }
  }

  async stop(runId) {
    const res = await attempt(t('runs.stopFailed', { id: runId }), () => api.stopRun(runId));
    if (res) toast(t('runs.stopped', { id: runId }), { kind: 'ok' });
  }
}
