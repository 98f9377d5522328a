// Everything about the selected process: what it is doing (state, wchan in words),
// STAT flag by flag, controls, every field, its threads, its sockets, the channels it
// shares with other processes, its memory (on demand), and its signal table.

import { h, clear, fmtBytes, fmtTime, fill } from './dom.js';
import { t, L, onLang } from './i18n.js';
import { explainStat, explainWchan, STATES } from './explain.js';
import { kindOf, displayName, stateClass, psCommand, roleText } from './procinfo.js';
import { signalTable, signalSummary } from './sigtable.js';
import { Controls } from './controls.js';
import { ThreadList } from './threads.js';
import { linkList } from './linklist.js';
import { MemoryPanel } from './memory.js';
import { StdinBox } from './stdinbox.js';

export class DetailsView {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.controls = new Controls(store);
    this.threads = new ThreadList();
    this.stdin = new StdinBox(store);
    this.memory = new MemoryPanel(() => { this.lastSig = null; this.render(); });
    this.head = h('div', { class: 'det-head' });
    this.body = h('div', { class: 'det-body' });
    this.showRealtime = false;
    this.lastSig = null;
    this.watchHint = h('p', { class: 'watch-hint only-watch' });
    fill(host, this.head, this.watchHint, this.controls.el, this.stdin.el, this.body);
    const refresh = () => this.render();
    store.on('select', refresh);
    store.on('procs', refresh);
    store.on('runs', refresh);
    store.on('signals', () => { this.lastSig = null; this.render(); });
    onLang(() => { this.lastSig = null; this.render(); });
    this.render();
  }

  render() {
    const store = this.store;
    const pid = store.selectedPid;
    const obj = pid === null ? null : store.proc(pid);
    this.stdin.setTarget(obj);
    if (!obj) {
      this.controls.el.hidden = true;
      this.controls.obj = null;
      fill(this.head, h('div', { class: 'det-empty' },
        h('p', { class: 'det-empty-title' }, t('det.none')), h('p', null, t('det.noneHint'))));
      clear(this.body);
      this.lastSig = null;
      return;
    }
    this.watchHint.textContent = t('det.watchOnly');
    const gone = store.isGone(pid);
    // cpu, rss and each thread's cpu change all the time: updated in place below.
    const { cpu, rss, tasks, ...steady } = obj;
    const threads = (tasks || []).map(({ cpu: _, ...task }) => [task, store.threadName(pid, task.tid)]);
    const run = obj.run ? store.runs.get(obj.run) : null;
    const links = (run && run.links || []).filter((l) => l.ends.some((e) => e.pid === pid));
    const sig = JSON.stringify([steady, threads, links, gone, kindOf(store, obj), store.launcherPid, this.showRealtime]);
    if (sig === this.lastSig) {
      if (this.cpuEl) this.cpuEl.textContent = (cpu ?? 0).toFixed(1);
      if (this.rssEl) this.rssEl.textContent = fmtBytes(rss);
      this.threads.update(obj);
      return;
    }
    this.lastSig = sig;
    this.controls.el.hidden = false;
    this.controls.setTarget(obj);
    this.renderHead(obj, gone);
    this.renderBody(obj, gone);
  }

  renderHead(obj, gone) {
    const kind = kindOf(this.store, obj);
    const st = stateClass(obj.state);
    const tags = [];
    if (gone) tags.push(h('span', { class: 'tag tag-gone' }, t('tag.gone')));
    if (obj.state === 'Z' && !gone) tags.push(h('span', { class: 'tag tag-zombie' }, t('tag.zombie')));
    if (kind === 'orphan') tags.push(h('span', { class: 'tag tag-orphan' }, t('tag.orphan')));
    if (kind === 'session') tags.push(h('span', { class: 'tag tag-session' }, t('tag.session')));
    const wchan = explainWchan(obj.wchan, obj);
    const doing = gone ? [t('det.goneNote')] : [L(STATES[obj.state]) || obj.state];
    if (!gone && wchan && obj.state !== 'R' && obj.state !== 'Z') doing.push(L(wchan));
    fill(this.head, 
      h('div', { class: 'det-title' },
        h('span', { class: `stat-badge st-${st}` }, obj.stat),
        h('span', { class: 'det-pid' }, obj.pid),
        h('span', { class: 'det-name' }, displayName(this.store, obj)),
        tags),
      h('p', { class: 'det-doing' }, doing.join(' — ')),
      kind === 'orphan' ? h('p', { class: 'det-note note-orphan' }, t('det.orphanNote')) : null,
      obj.state === 'Z' && !gone ? h('p', { class: 'det-note note-zombie' }, t('det.zombieNote', { ppid: obj.ppid })) : null,
      kind === 'session' ? h('p', { class: 'det-note' }, t('det.sessionNote')) : null,
      kind === 'init' ? h('p', { class: 'det-note' }, t('det.initNote')) : null,
    );
  }

  renderBody(obj, gone) {
    const link = (pid) => h('a', { href: '#', class: 'pidlink', onclick: (e) => {
      e.preventDefault();
      this.host.dispatchEvent(new CustomEvent('select-pid', { bubbles: true, detail: pid }));
    } }, pid);
    const started = obj.started ? `${fmtTime(obj.started).slice(0, 8)} (${t('det.ago', { s: Math.max(0, Math.round(Date.now() / 1000 - obj.started)) })})` : '–';
    const fields = [
      ['PID', obj.pid], ['PPID', this.store.proc(obj.ppid) ? link(obj.ppid) : obj.ppid],
      ['PGID', obj.pgid], ['SID', obj.sid], ['TPGID', obj.tpgid],
      [t('f.run'), obj.run ?? '–'], [t('f.role'), obj.role ? (roleText(obj.role) === obj.role ? obj.role : `${roleText(obj.role)} (${obj.role})`) : '–'], [t('f.name'), obj.name],
      ['STAT', obj.stat], ['NI', obj.nice ?? '-'], ['PRI', 39 - obj.priority],
      [t('f.threads'), obj.threads], ['%CPU', this.cpuEl = h('span', null, (obj.cpu ?? 0).toFixed(1))],
      ['RSS', this.rssEl = h('span', null, fmtBytes(obj.rss))],
      [t('f.started'), started, 'wide'], ['WCHAN', obj.wchan || '–', 'wide'],
      ...(obj.syscall ? [[t('f.syscall'), `${obj.syscall}()`, 'wide']] : []),
    ];
    const statRows = explainStat(obj.stat).map((f) => h('li', null,
      h('code', { class: 'flag' }, f.flag), h('span', null, L(f.text))));
    const summary = signalSummary(obj);
    fill(this.body, 
      section(t('det.stat'), h('ul', { class: 'stat-list' }, statRows)),
      section(t('det.fields'), h('dl', { class: 'fields' }, fields.map(([k, v, wide]) => [h('dt', { class: wide }, k), h('dd', { class: wide }, v)])),
        h('div', { class: 'cmdline' }, h('span', { class: 'cmd-label' }, 'COMMAND'), h('code', null, psCommand(obj)))),
      obj.tasks ? section(t('det.threads'), this.threads.render(obj, (p, tid) => this.store.threadName(p, tid))) : null,
      section(t('det.sockets'), this.sockets(obj)),
      obj.run ? section(t('det.links'), linkList(this.store.runs.get(obj.run), obj.pid, link)) : null,
      section(t('det.memory'), this.memory.render(obj, gone)),
      section(t('det.signals'),
        summary.length ? h('p', { class: 'sig-summary' }, summary.join(' · ')) : null,
        signalTable(this.store.signals, obj, this.showRealtime),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: this.showRealtime,
          onchange: (e) => { this.showRealtime = e.target.checked; this.lastSig = null; this.render(); } }),
        t('det.realtime')), { cls: 'secondary' }),
    );
    void gone;
  }

  sockets(obj) {
    const list = obj.sockets || [];
    const run = obj.run ? this.store.runs.get(obj.run) : null;
    const unowned = run && run.root === obj.pid ? run.unowned_sockets || [] : [];
    if (!list.length && !unowned.length) return h('p', { class: 'muted' }, t('det.noSockets'));
    // One socket per item: "fd 3 · tcp · ESTABLISHED", then "local → remote"; narrow panes stay readable.
    const table = (rows) => h('ul', { class: 'socklist' }, rows.map((s) => h('li', { class: `sock sock-${(s.status || 'none').toLowerCase()}` },
      h('div', { class: 'sock-head' }, h('span', { class: 'sock-fd' }, s.fd === null || s.fd === undefined ? t('sock.nofd') : `fd ${s.fd}`),
        h('span', { class: 'sock-proto' }, s.proto), s.status ? h('span', { class: 'sock-status' }, s.status) : null),
      h('div', { class: 'sock-addr' }, s.laddr || '–', s.raddr ? [h('span', { class: 'arrow' }, ' → '), s.raddr] : null),
      s.recv_q || s.send_q ? h('div', { class: 'sk-queues', title: t('socks.queuesWhy') },
        t('socks.queues', { r: s.recv_q ?? '–', s: s.send_q ?? '–' })) : null)));
    return [list.length ? table(list) : null,
      unowned.length ? [h('p', { class: 'muted' }, t('det.unowned')), table(unowned)] : null];
  }
}

function section(title, ...children) {
  const opts = children.length && children[children.length - 1]?.cls ? children.pop() : {};
  return h('section', { class: `det-section ${opts.cls || ''}` }, h('h3', null, title), children);
}
