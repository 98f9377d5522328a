// How to call a process: its role, or what it is (lab init, a run's session), or its command.
import { t, L } from './i18n.js';

export function kindOf(store, obj) {
  if (obj.pid === store.launcherPid) return 'init';
  if (store.isSession(obj)) return 'session';
  if (store.isHelper(obj)) return 'helper';
  if (store.isOrphan(obj)) return 'orphan';
  return 'proc';
}

// `python -m lab.experiments.zombie --hold 300` -> "zombie"; a zombie has no cmdline: "[python]".
export function shortCmd(obj) {
  const argv = obj.cmdline || [];
  const m = argv.indexOf('-m');
  if (m >= 0 && argv[m + 1]) return argv[m + 1].split('.').pop();
  if (argv.length > 1 && /\.py$/.test(argv[1])) return argv[1].split('/').pop();
  if (argv.length) return argv[0].split('/').pop();
  return `[${obj.name}]`;
}

// ps's COMMAND column: the argv, or "[name] <defunct>" for a zombie.
export function psCommand(obj) {
  if (obj.state === 'Z') return `[${obj.name}] <defunct>`;
  const argv = obj.cmdline || [];
  return argv.length ? argv.join(' ') : `[${obj.name}]`;
}

export function runLabel(store, runId) {
  const lab = store.labOf(runId);
  const run = store.runs.get(runId);
  return lab ? L(lab.title) : run ? run.lab : '';
}

export function displayName(store, obj) {
  const kind = kindOf(store, obj);
  if (kind === 'init') return t('proc.labinit');
  if (kind === 'session') return `${obj.run} · ${runLabel(store, obj.run) || t('proc.session')}`;
  return obj.role ? roleText(obj.role) : shortCmd(obj);
}

// A role in the chosen language: "worker 3" -> "工作进程 3", "gil worker 2" -> "GIL 工作进程 2";
// the longest known role the text starts with is translated, the rest (a number) kept; a role
// no lab uses (a Process's own name, "worker-1") stays as it is.
const ROLES = ['parent', 'child', 'grandchild', 'root', 'driver', 'conductor', 'server', 'client', 'worker',
  'playground', 'producer', 'consumer', 'gil worker', 'buffer child', 'offset child', 'sys.exit child',
  'os._exit child', 'tcp demo', 'client sender', 'admin'].sort((a, b) => b.length - a.length);
export function roleText(role) {
  const text = String(role);
  const key = ROLES.find((r) => text === r || text.startsWith(`${r} `));
  return key ? t(`role.${key}`) + text.slice(key.length) : text;
}

export function stateClass(state) {
  if (state === 't') return 'T';
  return 'RSDTZ'.includes(state) ? state : 'X';
}
