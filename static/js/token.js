// The control token, kept by the tab that opened the teacher's link, in its
// sessionStorage: this origin's only (the port is part of it) and this tab's
// only, so every other tab watches.  Never a cookie: a browser sends the
// cookies of 127.0.0.1 to every port of 127.0.0.1, any other user's server's too.

const KEY = 'proclab.token';
let remembered = null;       // kept here too: where sessionStorage is off

// ?token=… leaves the address bar (and the history) as soon as the page has it.
export function takeFromUrl() {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token !== null) {
    url.searchParams.delete('token');
    history.replaceState(null, '', url);
  }
  return token;
}

function stored() {
  try { return sessionStorage.getItem(KEY); } catch { return null; }
}

export function keep(value) {
  try {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  } catch { /* storage off: this page controls until it is reloaded */ }
  remembered = value || null;
}

export function current() {
  return remembered || stored();
}
