// Toasts: short messages in a corner.  Errors stay until closed (or 12 s); others go after 4 s.
import { h } from './dom.js';
import { t } from './i18n.js';
import { refusalText } from './eventfmt.js';

const MAX = 5;

function host() {
  return document.getElementById('toasts');
}

export function toast(message, { kind = 'info', title = null, detail = null } = {}) {
  const box = host();
  if (!box) return;
  const close = h('button', { class: 'toast-close', 'aria-label': t('toast.close'), onclick: () => el.remove() }, '×');
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', { class: 'toast-body' },
      title ? h('div', { class: 'toast-title' }, title) : null,
      h('div', { class: 'toast-msg' }, message),
      detail ? h('div', { class: 'toast-detail' }, detail) : null),
    close);
  box.append(el);
  while (box.children.length > MAX) box.firstElementChild.remove();
  setTimeout(() => el.remove(), kind === 'error' ? 12000 : 4000);
}

// Show an API error clearly: what we tried, what the server said (in the page's
// words where the server gave a code the page knows).
export function toastError(what, err) {
  const words = err ? refusalText(err.detail) : null;
  let detail = null;
  if (!words && err && err.detail !== undefined && err.detail !== null) {
    detail = typeof err.detail === 'string' ? err.detail : JSON.stringify(err.detail);
  }
  const status = !words && err && err.status ? ` (${err.status})` : '';     // the code only where no words are
  toast(`${words || (err && err.message ? err.message : String(err))}${status}`, { kind: 'error', title: what, detail });
}

// Run an API call; toast on failure.  Returns the result or null.
export async function attempt(what, fn) {
  try {
    return await fn();
  } catch (err) {
    toastError(what, err);
    return null;
  }
}
