// REST calls.  Control requests are JSON ("{}" when there is nothing to say)
// and carry the tab's control token; errors come back as {"error", "detail"}
// and are thrown as ApiError.
import { current as controlToken } from './token.js';

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

async function call(method, path, body) {
  const options = { method, headers: { Accept: 'application/json' }, credentials: 'omit' };
  const token = controlToken();
  if (token) options.headers.Authorization = `Bearer ${token}`;
  if (method !== 'GET') {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new ApiError(0, 'the server cannot be reached', String(err));
  }
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || `${response.status} ${response.statusText}`,
      data && data.detail);
  }
  return data;
}

export const api = {
  labs: () => call('GET', '/api/labs'),
  source: (lab) => call('GET', `/api/labs/${encodeURIComponent(lab)}/source`),
  signals: () => call('GET', '/api/signals'),
  start: (lab, params) => call('POST', `/api/labs/${encodeURIComponent(lab)}/start`, params),
  stopRun: (run) => call('DELETE', `/api/runs/${encodeURIComponent(run)}`),
  reset: () => call('POST', '/api/reset'),
  terminal: (run) => call('GET', `/api/runs/${encodeURIComponent(run)}/terminal`),
  type: (run, data) => call('POST', `/api/runs/${encodeURIComponent(run)}/terminal`, { data }),
  typeInto: (run, pid, data) => call('POST', `/api/runs/${encodeURIComponent(run)}/terminal`, { pid, data }),
  key: (run, key) => call('POST', `/api/runs/${encodeURIComponent(run)}/terminal`, { key }),
  action: (run, id) => call('POST', `/api/runs/${encodeURIComponent(run)}/actions/${encodeURIComponent(id)}`),
  signal: (pid, signal, target) => call('POST', `/api/processes/${pid}/signal`, { signal, target }),
  memory: (pid) => call('GET', `/api/processes/${pid}/memory`),
  renice: (pid, nice) => call('POST', `/api/processes/${pid}/renice`, { nice }),
  control: () => call('GET', '/api/control'),
  pageLink: (run) => call('POST', `/api/runs/${encodeURIComponent(run)}/page`),
};
