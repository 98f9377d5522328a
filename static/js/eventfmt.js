// One event of the stream -> one line of the log, in the chosen language.
import { t, L } from './i18n.js';
import { roleText } from './procinfo.js';

export const CATEGORY = {
  output: 'output',
  spawned: 'life', seen: 'life', root: 'life', exited: 'life', reaped: 'life', gone: 'life', zombie: 'life',
  reparented: 'life', role: 'life', run_started: 'life', run_ended: 'life', stopped: 'life', continued: 'life',
  lab_init: 'error', resync: 'error',
  control: 'control', refused: 'control',
  state: 'state', socket: 'state', listening: 'state',
  error: 'error',
};

export const ICON = {
  output: '›', spawned: '＋', seen: '＋', root: '▶', exited: '✕', reaped: '✕', gone: '✕', zombie: '☠',
  reparented: '↪', role: '●', run_started: '▶', run_ended: '■', control: '⚡', refused: '⊘', state: '◐',
  socket: '⇄', listening: '⇄', error: '!', stopped: '‖', continued: '▶', lab_init: '!', resync: '!',
};

// Lines that would only add noise: a process flickering between R and S, keystrokes
// (they are in the terminal), a "seen" for a process whose spawn was already told.
export function isNoise(e, seenSpawn) {
  if (e.kind === 'state' && /^[RS]/.test(e.old || '') && /^[RS]/.test(e.new || '')) return true;
  if (e.kind === 'control' && e.action === 'input') return true;
  if (e.kind === 'seen' && seenSpawn.has(e.pid)) return true;
  return false;
}

const KEY_NAMES = { ctrl_c: 'Ctrl-C', ctrl_backslash: 'Ctrl-\\', ctrl_z: 'Ctrl-Z', ctrl_d: 'Ctrl-D', enter: 'Enter' };

// Why a run ended (lab init's code and fields), in the chosen language;
// "finished" says how its program ended (killed by SIGKILL is no normal end).
export function reasonText(reason, exit) {
  if (!reason) return '';
  if (typeof reason !== 'object') return String(reason);
  switch (reason.code) {
    case 'finished':
      if (exit && exit.signal) return t('reason.finishedSignal', { signal: exit.signal });
      if (exit && exit.code !== undefined && exit.code !== null) return t('reason.finishedCode', { code: exit.code });
      return t('reason.finished');
    case 'stopped': return t('reason.stopped');
    case 'dashboard': return t('reason.dashboard');
    case 'reset': return t('reason.reset');
    case 'lifetime': return t('reason.lifetime', { s: reason.seconds });
    case 'cap': return t('reason.cap', { n: reason.processes, cap: reason.cap });
    case 'total_cap': return t('reason.totalCap', { n: reason.processes, cap: reason.cap });
    case 'lab_init_lost': return t('reason.labinit', { pid: reason.pid, how: status(reason) });
    case 'start_timeout': return t('reason.startTimeout');
    default: return reason.code || '';
  }
}

// A refusal the server gave as data ({"code": "run_cap", ...}), in the chosen
// language; null when the page has no words for it (the server's own then).
export function refusalText(detail) {
  if (!detail || typeof detail !== 'object' || !detail.code) return null;
  const key = `err.${detail.code}`;
  const text = t(key, detail);
  return text === key ? null : text;
}

function who(pid, launcherPid) {
  return pid === launcherPid ? `${t('proc.labinit')} (${pid})` : String(pid);
}

function status(e) {
  if (e.signal) return t('ev.killedBy', { signal: e.signal });
  if (e.code !== undefined && e.code !== null) return t('ev.exitCode', { code: e.code });
  return t('ev.unknownStatus');
}

export function eventText(e, launcherPid) {
  const p = e.pid;
  switch (e.kind) {
    case 'exited': return e.session ? t('ev.sessionClosed', { pid: p }) : t('ev.exited', { pid: p, status: status(e), by: who(e.by, launcherPid) });
    case 'reaped': return t('ev.reaped', { pid: p, by: who(e.by, launcherPid) });
    case 'gone': return t('ev.gone', { pid: p });
    case 'spawned': return e.ppid === launcherPid || e.argv ? t('ev.helper', { pid: p, run: e.run })
      : t('ev.spawned', { pid: p, ppid: e.ppid });
    case 'seen': return t('ev.seen', { pid: p, ppid: who(e.ppid, launcherPid) });
    case 'root': return t('ev.root', { pid: p });
    case 'role': return t('ev.role', { pid: p, role: roleText(e.role) });
    case 'listening': return t('ev.listening', { pid: p, proto: e.proto || '', addr: e.address || '' });
    case 'zombie': return e.old ? t('ev.zombie', { pid: p, old: e.old, new: e.new }) : t('ev.zombieNew', { pid: p, stat: e.new });
    case 'socket':
      if (e.socket && e.change === 'opened') {
        return t('ev.sockOpened', { pid: p, proto: e.socket.proto, addr: e.socket.laddr || '', status: e.socket.status || '' });
      }
      if (e.socket && e.change === 'closed') return t('ev.sockClosed', { pid: p, proto: e.socket.proto, addr: e.socket.laddr || '' });
      return e.text || '';
    case 'state': return t('ev.state', { pid: p, old: e.old, new: e.new });
    case 'reparented': return t('ev.reparented', { pid: p, old: e.old, new: who(e.new, launcherPid) });
    case 'run_started': return t('ev.runStarted', { run: e.run, root: e.root });
    case 'lab_init': return e.code === 'replaced' ? t('ev.labInitReplaced', { old: e.old, pid: e.pid, how: status(e) })
      : t('ev.labInitLost', { old: e.old, how: status(e) });
    case 'resync': return t('ev.resync', {
      events: Object.values(e.missed || {}).reduce((a, b) => a + b, 0),
      bytes: Object.values(e.output_missed || {}).reduce((a, b) => a + b, 0) });
    case 'error': return refusalText(e) || e.text || '';
    case 'run_ended': return t('ev.runEnded', { run: e.run, reason: reasonText(e.reason, e.exit) });
    case 'stopped': return t('ev.stopped', { pid: p, signal: e.signal || '' });
    case 'continued': return t('ev.continued', { pid: p });
    case 'control':
      if (e.action === 'signal') {
        const whom = e.target === 'group' ? t('ctl.groupOf', { pid: p }) : String(p);
        return t('ev.signal', { signal: e.signal, whom });
      }
      if (e.action === 'start') return t('ev.ctlStart', { run: e.run, pid: p, lab: (e.text || '').split(' ')[1] || '' });
      if (e.action === 'stop') return t('ev.ctlStop', { run: e.run });
      if (e.action === 'reset') return t('ev.ctlReset');
      if (e.action === 'renice') return t('ev.ctlRenice', { pid: p, nice: e.nice });
      if (e.action === 'action' && e.label) {
        return e.signal ? t('ev.ctlActionSignal', { label: L(e.label), signal: e.signal, role: e.role ? roleText(e.role) : '', pid: p })
          : t('ev.ctlAction', { label: L(e.label), run: e.run });
      }
      if (e.action === 'key') return t('ev.ctlKey', { run: e.run, key: KEY_NAMES[(e.text || '').split(': ').pop()] || e.text });
      if (e.action === 'refused') return t('ev.refused', { why: refusalText(e.detail) || e.text || '' });
      return e.text || '';
    default: return e.text || '';
  }
}
