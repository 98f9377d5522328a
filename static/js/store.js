// The page's single source of truth: processes, runs, labs, signals, selection.
// The connection feeds it snapshots and diffs; views listen for its events:
//   'procs' (processes changed), 'runs', 'select', 'event' (one log event),
//   'terminal' ({run, data}), 'snapshot' (a full resync happened), 'conn'.

export const MARK_MS = 1800;     // how long a spawn / state change / re-parent stays highlighted
export const GHOST_MS = 1600;    // how long an exited process stays in the tree, fading
const MAX_GHOSTS = 40;
const MAX_LAST_KNOWN = 300;
const MAX_HELPERS = 500;
const MAX_THREAD_NAMES = 500;
const FLICKER = new Set(['R', 'S']);

export class Store extends EventTarget {
  constructor() {
    super();
    this.procs = new Map();        // pid -> process object
    this.runs = new Map();         // run id -> run object, in start order
    this.launcherPid = null;       // lab init
    this.labs = [];
    this.labsByName = new Map();
    this.signals = [];
    this.runCap = null;
    this.seq = null;
    this.selectedPid = null;
    this.selectedRun = null;
    this.marks = new Map();        // pid -> {kind: 'spawn'|'state'|'reparent', at}
    this.ghosts = new Map();       // pid -> {obj, at}: exited, still shown for a moment
    this.lastKnown = new Map();    // pid -> last object of a process that is gone
    this.helpers = new Set();      // pids lab init started directly into a run (not orphans)
    this.threadNames = new Map();  // "pid:tid" -> threading name, from the lines threads said
    this.pruneTimer = null;
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  on(type, fn) { this.addEventListener(type, (e) => fn(e.detail)); }

  setLabs(data) {
    this.labs = data.labs || [];
    this.labsByName = new Map(this.labs.map((lab) => [lab.name, lab]));
    this.runCap = data.run_cap ?? null;
    this.emit('labs', this.labs);
  }

  setSignals(list) {
    this.signals = list || [];
    this.emit('signals', this.signals);
  }

  // -- frames ---------------------------------------------------------------
  applySnapshot(frame) {
    for (const [pid, obj] of this.procs) if (!frame.processes.some((p) => p.pid === pid)) this.remember(obj);
    this.procs = new Map(frame.processes.map((p) => [p.pid, p]));
    this.seq = frame.seq;
    this.ghosts.clear();
    this.marks.clear();
    this.findLauncher();
    this.setRuns(frame.runs || []);
    this.emit('snapshot', frame);
    for (const event of frame.events || []) this.addEvent(event, true);
    this.emit('procs');
  }

  applyDiff(frame) {
    const now = performance.now();
    for (const obj of frame.upsert || []) {
      const old = this.procs.get(obj.pid);
      if (!old) this.marks.set(obj.pid, { kind: 'spawn', at: now });
      else if (old.ppid !== obj.ppid) this.marks.set(obj.pid, { kind: 'reparent', at: now, from: old.ppid });
      else if (old.state !== obj.state && !(FLICKER.has(old.state) && FLICKER.has(obj.state))) {
        this.marks.set(obj.pid, { kind: 'state', at: now });   // not for the R <-> S of every wake-up
      }
      this.procs.set(obj.pid, obj);
      this.ghosts.delete(obj.pid);
    }
    for (const pid of frame.remove || []) {
      const obj = this.procs.get(pid);
      if (!obj) continue;
      this.procs.delete(pid);
      this.marks.delete(pid);
      this.remember(obj);
      if (obj.run !== null && obj.run !== undefined) this.ghosts.set(pid, { obj, at: now });   // a lost lab init: no ghost
    }
    while (this.ghosts.size > MAX_GHOSTS) this.ghosts.delete(this.ghosts.keys().next().value);
    this.seq = frame.seq;
    if (this.launcherPid === null || !this.procs.has(this.launcherPid)) this.findLauncher();
    if (frame.runs) this.setRuns(frame.runs);
    this.schedulePrune();
    this.emit('procs');
  }

  findLauncher() {
    const init = [...this.procs.values()].find((p) => p.run === null || p.run === undefined);
    this.launcherPid = init ? init.pid : null;
  }

  // A new run is followed when the watched one has ended (or on a watch-only page,
  // which follows the teacher); a run this page started is selected by main.js.
  setRuns(list) {
    const before = this.runs;
    this.runs = new Map(list.map((r) => [r.id, r]));
    const fresh = list.filter((r) => !before.has(r.id) && r.state !== 'ended');
    const current = this.runs.get(this.selectedRun);
    if (!current) this.selectRun(this.latestRun());
    else if (fresh.length && before.size && (current.state === 'ended' || this.followNewRuns)) {
      this.selectRun(fresh[fresh.length - 1].id);
    }
    this.emit('runs', this.runs);
  }

  latestRun() {
    const live = [...this.runs.values()].filter((r) => r.state !== 'ended');
    const pick = live.length ? live : [...this.runs.values()];
    return pick.length ? pick[pick.length - 1].id : null;
  }

  remember(obj) {
    this.lastKnown.delete(obj.pid);
    this.lastKnown.set(obj.pid, obj);
    while (this.lastKnown.size > MAX_LAST_KNOWN) this.lastKnown.delete(this.lastKnown.keys().next().value);
  }

  // The threading name a thread gave when it last said something (report.py sends its
  // TID with it): the kernel knows every Python thread as "python".
  threadName(pid, tid) { return this.threadNames.get(`${pid}:${tid}`) || null; }

  addEvent(event, replayed = false) {
    if (event.kind === 'output' && Number.isInteger(event.tid) && typeof event.thread === 'string') {
      const key = `${event.pid}:${event.tid}`;
      this.threadNames.delete(key);
      this.threadNames.set(key, event.thread.slice(0, 64));
      if (this.threadNames.size > MAX_THREAD_NAMES) this.threadNames.delete(this.threadNames.keys().next().value);
    }
    if (event.kind === 'spawned' && event.ppid === this.launcherPid && event.pid) {
      this.helpers.add(event.pid);
      if (this.helpers.size > MAX_HELPERS) this.helpers.delete(this.helpers.values().next().value);
    }
    if (!event.role && event.pid) {   // lab init's exit reports come after the role was forgotten
      const known = this.procs.get(event.pid) || this.lastKnown.get(event.pid);
      if (known && known.role) event = { ...event, role: known.role };
    }
    this.emit('event', { event, replayed });
  }

  // Drop highlights and ghosts whose time is up; re-render while any remain.
  schedulePrune() {
    if (this.pruneTimer) return;
    this.pruneTimer = setTimeout(() => {
      this.pruneTimer = null;
      const now = performance.now();
      let changed = false;
      for (const [pid, m] of this.marks) if (now - m.at > MARK_MS) { this.marks.delete(pid); changed = true; }
      for (const [pid, g] of this.ghosts) if (now - g.at > GHOST_MS) { this.ghosts.delete(pid); changed = true; }
      if (changed) this.emit('procs');
      if (this.marks.size || this.ghosts.size) this.schedulePrune();
    }, 250);
  }

  // -- what a process is ------------------------------------------------------
  proc(pid) { return this.procs.get(pid) || this.ghosts.get(pid)?.obj || this.lastKnown.get(pid) || null; }
  isGone(pid) { return !this.procs.has(pid); }
  isSession(obj) { return [...this.runs.values()].some((r) => r.session === obj.pid); }
  // A helper (a client lab init started into a run) leads a session of its own; an orphan
  // was adopted by lab init and still sits in its run's session.
  isHelper(obj) {
    return obj.ppid === this.launcherPid && obj.run !== null && !this.isSession(obj)
      && (this.helpers.has(obj.pid) || obj.sid === obj.pid);
  }
  isOrphan(obj) {
    return this.launcherPid !== null && obj.ppid === this.launcherPid && obj.run !== null
      && !this.isSession(obj) && !this.isHelper(obj);
  }
  labOf(runId) {
    const run = this.runs.get(runId);
    return run ? this.labsByName.get(run.lab) || null : null;
  }

  // -- selection ----------------------------------------------------------------
  select(pid) {
    if (this.selectedPid === pid) return;
    this.selectedPid = pid;
    const obj = pid === null ? null : this.proc(pid);
    if (obj && obj.run && obj.run !== this.selectedRun) this.selectRun(obj.run, false);
    this.emit('select', pid);
  }

  selectRun(runId, announce = true) {
    if (this.selectedRun === runId) return;
    this.selectedRun = runId;
    this.emit('selectrun', runId);
    if (announce && this.selectedPid !== null) {
      const obj = this.proc(this.selectedPid);
      if (obj && obj.run && obj.run !== runId) { this.selectedPid = null; this.emit('select', null); }
    }
  }
}
