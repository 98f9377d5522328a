// The top bar: connection state, watch-only note, language, projector mode, help, reset all.
// Also the two tab strips (tree | table, process | source).

import { h, fill } from './dom.js';
import { t, getLang, setLang, onLang } from './i18n.js';
import { api } from './api.js';
import { attempt, toast } from './toast.js';

export function setupHeader(store, ui) {
  const conn = document.getElementById('conn');
  let connState = { state: 'connecting' };
  let countdown = null;
  const renderConn = () => {
    const { state, retryIn } = connState;
    conn.className = `conn conn-${state}`;
    conn.dataset.state = state;
    let text = t(`conn.${state}`);
    if (state === 'offline' && retryIn) text = t('conn.retry', { s: Math.ceil(retryIn / 1000) });
    fill(conn, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), h('span', null, text));
    conn.title = t(`conn.${state}Title`);
  };
  store.on('conn', (c) => {
    connState = c;
    document.body.classList.toggle('offline', c.state === 'offline');
    clearInterval(countdown);
    if (c.state === 'offline' && c.retryIn) {
      const until = Date.now() + c.retryIn;
      countdown = setInterval(() => {
        connState = { state: 'offline', retryIn: Math.max(0, until - Date.now()) };
        renderConn();
      }, 500);
    }
    renderConn();
  });
  onLang(renderConn);
  renderConn();

  // Language
  const langButtons = document.querySelectorAll('#lang-switch button');
  const renderLang = () => langButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === getLang())));
  langButtons.forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));
  onLang(renderLang);
  renderLang();

  // Projector mode
  document.getElementById('btn-projector').addEventListener('click', () => ui.setProjector(!ui.projector));
  document.getElementById('btn-labs').addEventListener('click', () => ui.toggleLabs());
  document.getElementById('btn-help').addEventListener('click', () => ui.toggleHelp());

  // Reset all: a second click within 4 s confirms.
  const reset = document.getElementById('btn-reset');
  let armed = null;
  reset.addEventListener('click', async () => {
    if (!armed) {
      reset.classList.add('armed');
      reset.textContent = t('hdr.resetConfirm');
      armed = setTimeout(() => { armed = null; reset.classList.remove('armed'); reset.textContent = t('hdr.reset'); }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    reset.classList.remove('armed');
    reset.textContent = t('hdr.reset');
    const res = await attempt(t('hdr.resetFailed'), () => api.reset());
    if (res) toast(t('hdr.resetDone', { n: res.stopped.length }), { kind: 'ok' });
  });

  // Watch-only
  const note = document.getElementById('watch-note');
  const renderWatch = () => {
    note.hidden = ui.canControl;
    const wrong = document.body.dataset.tokenWrong === 'true';    // an old or mistyped link
    note.textContent = t(wrong ? 'hdr.watchOnlyBadToken' : 'hdr.watchOnly');
    note.title = t(wrong ? 'hdr.watchOnlyBadTokenTitle'
      : document.body.dataset.tokenRequired === 'true' ? 'hdr.watchOnlyToken' : 'hdr.watchOnlyTitle');
  };
  onLang(renderWatch);
  renderWatch();
}

// A strip of buttons [data-tab] that shows one of several panes.
export function setupTabs(strip, panes, onChange) {
  const buttons = [...strip.querySelectorAll('[data-tab]')];
  const show = (name) => {
    for (const b of buttons) b.setAttribute('aria-selected', String(b.dataset.tab === name));
    for (const [key, pane] of Object.entries(panes)) pane.hidden = key !== name;
    if (onChange) onChange(name);
  };
  buttons.forEach((b) => b.addEventListener('click', () => show(b.dataset.tab)));
  return { show, current: () => buttons.find((b) => b.getAttribute('aria-selected') === 'true')?.dataset.tab };
}
