// English and 中文: every string of the page.  t('key', {vars}) for UI strings,
// L({en, zh}) for texts that come with the data (lab titles, explanations).
// The language comes from ?lang=zh|en, else the last choice, else navigator.language.

import { EN, ZH } from './strings.js';

const TABLES = { en: EN, zh: ZH };
let lang = 'en';

export function initLang() {
  const param = new URLSearchParams(location.search).get('lang');
  let stored = null;
  try { stored = localStorage.getItem('proclab.lang'); } catch { /* private mode */ }
  const nav = (navigator.language || 'en').toLowerCase();
  lang = [param, stored, nav.startsWith('zh') ? 'zh' : 'en'].find((l) => l === 'en' || l === 'zh');
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  return lang;
}

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (next !== 'en' && next !== 'zh' || next === lang) return;
  lang = next;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  try { localStorage.setItem('proclab.lang', lang); } catch { /* private mode */ }
  const url = new URL(location.href);
  url.searchParams.set('lang', lang);
  history.replaceState(null, '', url);
  applyStatic();
  document.dispatchEvent(new CustomEvent('langchange', { detail: lang }));
}

export function t(key, vars) {
  let text = TABLES[lang][key] ?? EN[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? vars[name] : m));
  return text;
}

export function L(obj) {
  if (obj === null || obj === undefined) return '';
  if (typeof obj === 'string') return obj;
  return obj[lang] ?? obj.en ?? Object.values(obj)[0] ?? '';
}

// Elements with data-i18n="key" (text), data-i18n-title, data-i18n-aria.
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  document.title = t('app.title');
}

export function onLang(fn) {
  document.addEventListener('langchange', () => fn(lang));
}
