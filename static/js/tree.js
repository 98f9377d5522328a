// The live process tree (SVG): lab init at the root, each run's session below it,
// every process a node with PID, role or name and STAT, coloured by state.
// Zombies and orphans carry a tag; spawns, state changes and re-parents ring briefly;
// an exited process fades out where it was; pipes, socketpairs and shared memory
// between processes are drawn over the tree (tree-links.js).  Nodes are keyed by PID and only move
// when something above them appears or goes.

import { svg, clear, h, fill } from './dom.js';
import { t, L, onLang } from './i18n.js';
import { layoutTree, columnsFor, GEO, fit } from './tree-layout.js';
import { kindOf, displayName, stateClass } from './procinfo.js';
import { STATES } from './explain.js';
import { LinkLayer, LINK_MARGIN, hasLinks } from './tree-links.js';

export class TreeView {
  constructor(host, store) {
    this.host = host;
    this.store = store;
    this.zoom = 'auto';               // 'auto' (fit the width, within limits), 'fit' (all) or a number
    this.maxAuto = 1.15;
    this.gBands = svg('g', { class: 'bands' });
    this.gEdges = svg('g', { class: 'edges' });
    this.gNodes = svg('g', { class: 'nodes' });
    this.links = new LinkLayer();
    this.svg = svg('svg', { class: 'tree-svg', role: 'tree', 'aria-label': t('tree.aria') },
      this.gBands, this.gEdges, this.links.g, this.gNodes, this.links.gTop);
    this.empty = h('div', { class: 'tree-empty' });
    fill(host, this.svg, this.empty);
    this.nodeEls = new Map();
    this.edgeEls = new Map();
    this.order = [];
    this.svg.addEventListener('click', (e) => {
      const g = e.target.closest('.node');
      if (g) this.host.dispatchEvent(new CustomEvent('select-pid', { bubbles: true, detail: Number(g.dataset.pid) }));
    });
    this.svg.addEventListener('keydown', (e) => {
      const g = e.target.closest('.node');
      if (g && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.host.dispatchEvent(new CustomEvent('select-pid', { bubbles: true, detail: Number(g.dataset.pid) }));
      }
    });
    for (const ev of ['procs', 'runs', 'labs']) store.on(ev, () => this.schedule());
    store.on('select', () => { this.schedule(); this.revealSelected = true; });
    store.on('selectrun', () => this.schedule());
    onLang(() => { for (const g of this.nodeEls.values()) g.sig = null; this.schedule(); });
    new ResizeObserver(() => this.schedule()).observe(host);
  }

  setZoom(zoom) {
    this.zoom = zoom;
    this.schedule();
  }

  zoomBy(factor) {
    const current = this.scale || 1;
    this.setZoom(Math.max(0.35, Math.min(2, current * factor)));
  }

  schedule() {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => { this.raf = null; this.render(); });
  }

  render() {
    const store = this.store;
    const entries = new Map();
    for (const [pid, obj] of store.procs) entries.set(pid, { obj, ghost: false });
    for (const [pid, g] of store.ghosts) if (!entries.has(pid)) entries.set(pid, { obj: g.obj, ghost: true });
    const lay = this.layout(entries);
    this.order = lay.order;
    this.renderBands(lay);
    this.renderEdges(lay);
    this.links.render(lay, store.runs, store.selectedPid);
    this.renderNodes(lay);
    this.applyZoom(lay);
    const live = [...store.runs.values()].some((r) => r.state !== 'ended');
    this.empty.hidden = live || store.procs.size > 1 || store.ghosts.size > 0;
    const where = document.body.classList.contains('projector') ? 'tree.emptyProjector' : 'tree.empty';   // no labs panel there
    this.empty.textContent = store.connState === 'live' || store.procs.size ? t(where) : t('tree.waiting');
    if (this.revealSelected) { this.revealSelected = false; this.reveal(store.selectedPid); }
  }

  // How many childless siblings to a row?  Try 1, 2 and 3 and keep the layout that shows
  // everything at the largest scale; if none can, the readable one that scrolls least.
  layout(entries) {
    const width = Math.max(200, this.host.clientWidth - 4);
    const height = Math.max(150, this.host.clientHeight - 4);
    const target = typeof this.zoom === 'number' ? this.zoom : this.maxAuto;
    const cols = columnsFor(width, target);
    const margin = hasLinks(this.store.runs) ? LINK_MARGIN : 0;    // room for the channels' curves
    const cands = [1, 2, 3].map((minPer) => {
      const lay = layoutTree(entries, this.store.launcherPid, cols, minPer);
      lay.width += margin;
      lay.autoScale = Math.max(0.7, Math.min(this.maxAuto, width / lay.width));
      lay.fitScale = Math.min(this.maxAuto, width / lay.width, height / lay.height);
      lay.fits = lay.height * lay.autoScale <= height;
      return lay;
    });
    if (typeof this.zoom === 'number') return cands[0];
    const byScale = (a, b) => b.autoScale - a.autoScale || a.height - b.height;
    if (this.zoom === 'fit') return cands.slice().sort((a, b) => b.fitScale - a.fitScale)[0];
    const fitting = cands.filter((l) => l.fits).sort(byScale);
    if (fitting.length) return fitting[0];
    const readable = cands.filter((l) => l.autoScale >= 0.78)
      .sort((a, b) => a.height * a.autoScale - b.height * b.autoScale);
    return readable.length ? readable[0] : cands.slice().sort(byScale)[0];
  }

  applyZoom(lay) {
    const avail = Math.max(200, this.host.clientWidth - 4);
    const availH = Math.max(150, this.host.clientHeight - 4);
    let scale;
    if (this.zoom === 'auto') scale = lay.autoScale ?? Math.max(0.7, Math.min(this.maxAuto, avail / lay.width));
    else if (this.zoom === 'fit') scale = Math.max(0.25, lay.fitScale ?? Math.min(this.maxAuto, avail / lay.width, availH / lay.height));
    else scale = this.zoom;
    this.scale = scale;
    this.svg.setAttribute('viewBox', `0 0 ${lay.width} ${lay.height}`);
    this.svg.setAttribute('width', Math.round(lay.width * scale));
    this.svg.setAttribute('height', Math.round(lay.height * scale));
  }

  renderBands(lay) {
    clear(this.gBands);
    // One band per run, over everything of it that hangs under lab init: its
    // session, the orphans lab init adopted and the helpers it started (clients).
    const runs = new Map();     // run -> {x, top, bottom}
    for (const n of lay.nodes) {
      if (n.obj.ppid !== this.store.launcherPid || !n.obj.run) continue;
      const band = runs.get(n.obj.run) || { x: n.x, top: Infinity, bottom: -Infinity, session: false };
      band.top = Math.min(band.top, lay.rowY(n.row) - 6);
      band.bottom = Math.max(band.bottom, lay.rowY(n.lastRow) + GEO.H + 6);
      band.session ||= !n.ghost && kindOf(this.store, n.obj) === 'session';
      runs.set(n.obj.run, band);
    }
    for (const [run, band] of runs) {
      if (!band.session) continue;         // a run's leftovers after its session ended: no band
      const selected = run === this.store.selectedRun;
      this.gBands.append(svg('rect', {
        class: `band${selected ? ' band-selected' : ''}`, x: band.x - 8, y: band.top,
        width: lay.width - band.x - GEO.PAD + 14, height: band.bottom - band.top, rx: 10,
      }));
    }
    for (const g of lay.groups) {
      this.gBands.append(svg('rect', { class: 'group', x: g.x, y: g.y, width: g.width, height: g.height, rx: 9 }));
    }
  }

  renderEdges(lay) {
    const keep = new Set();
    for (const e of lay.edges) {
      const key = e.key;
      keep.add(key);
      let path = this.edgeEls.get(key);
      if (!path) {
        path = svg('path', { class: 'edge' });
        this.edgeEls.set(key, path);
        this.gEdges.append(path);
      }
      const mark = e.child && this.store.marks.get(e.child.pid);
      const cls = ['edge'];
      if (e.child && kindOf(this.store, e.child.obj) === 'orphan') cls.push('edge-orphan');
      if (e.child && e.child.ghost) cls.push('edge-ghost');
      if (mark && mark.kind === 'reparent') cls.push('edge-reparent');
      path.setAttribute('class', cls.join(' '));
      path.style.d = `path("${e.d}")`;
    }
    for (const [key, path] of this.edgeEls) if (!keep.has(key)) { path.remove(); this.edgeEls.delete(key); }
  }

  renderNodes(lay) {
    const store = this.store;
    const keep = new Set();
    for (const n of lay.nodes) {
      keep.add(n.pid);
      let g = this.nodeEls.get(n.pid);
      const fresh = !g;
      if (fresh) {
        g = this.makeNode(n.pid);
        this.nodeEls.set(n.pid, g);
        this.gNodes.append(g);
      }
      const kind = kindOf(store, n.obj);
      const mark = store.marks.get(n.pid);
      const st = stateClass(n.obj.state);
      const tag = n.ghost ? 'gone' : n.obj.state === 'Z' ? 'zombie' : kind === 'orphan' ? 'orphan'
        : st === 'T' ? 'stopped' : null;
      const cls = ['node', `st-${st}`, `kind-${kind}`];
      if (tag) cls.push(`tag-${tag}`);
      if (n.ghost) cls.push('ghost');
      if (n.pid === store.selectedPid) cls.push('selected');
      if (mark) cls.push(`mark-${mark.kind}`);
      g.setAttribute('class', cls.join(' '));
      g.dataset.state = n.obj.state;
      g.dataset.kind = kind;
      g.style.transform = `translate(${n.x}px, ${n.y}px)`;
      if (fresh) { g.classList.add('entering'); requestAnimationFrame(() => g.classList.remove('entering')); }
      const label = displayName(store, n.obj);
      const sig = [n.obj.pid, n.obj.stat, label, tag, n.obj.wchan].join('|');
      if (g.sig !== sig) {
        g.sig = sig;
        g.parts.pid.textContent = n.pid;
        g.parts.label.textContent = fit(label, GEO.W - 20);
        g.parts.stat.textContent = n.obj.stat;
        const statW = Math.max(26, 9 * n.obj.stat.length + 10);
        g.parts.statBg.setAttribute('x', GEO.W - statW - 6);
        g.parts.statBg.setAttribute('width', statW);
        g.parts.stat.setAttribute('x', GEO.W - 6 - statW / 2);
        g.parts.tag.style.display = tag ? '' : 'none';
        if (tag) {
          const text = t(`tag.${tag}`);
          const w = Math.max(44, [...text].reduce((s, ch) => s + (/[\u2e80-\uffff]/.test(ch) ? 11 : 7), 0) + 14);
          g.parts.tagBg.setAttribute('width', w);
          g.parts.tagBg.setAttribute('x', GEO.W - w - 8);
          g.parts.tagText.setAttribute('x', GEO.W - 8 - w / 2);
          g.parts.tagText.textContent = text;
        }
        g.parts.title.textContent = `${n.pid} ${label} — ${n.obj.stat}: ${L(STATES[n.obj.state] || '')}`;
        g.setAttribute('aria-label', `${n.pid} ${label} ${n.obj.stat}${tag ? ` ${t(`tag.${tag}`)}` : ''}`);
      }
    }
    for (const [pid, g] of this.nodeEls) if (!keep.has(pid)) { g.remove(); this.nodeEls.delete(pid); }
  }

  makeNode(pid) {
    const W = GEO.W;
    const H = GEO.H;
    const parts = {
      title: svg('title'),
      pid: svg('text', { class: 'node-pid', x: 14, y: 17 }),
      label: svg('text', { class: 'node-label', x: 14, y: 33 }),
      statBg: svg('rect', { class: 'stat-bg', y: 5, height: 17, rx: 4 }),
      stat: svg('text', { class: 'stat-text', y: 18, 'text-anchor': 'middle' }),
      tagBg: svg('rect', { class: 'tag-bg', y: -9, height: 16, rx: 8 }),
      tagText: svg('text', { class: 'tag-text', y: 3, 'text-anchor': 'middle' }),
    };
    parts.tag = svg('g', { class: 'tag' }, parts.tagBg, parts.tagText);
    const g = svg('g', { class: 'node', 'data-pid': pid, tabindex: 0, role: 'treeitem' },
      parts.title,
      svg('rect', { class: 'ring', x: -4, y: -4, width: W + 8, height: H + 8, rx: 11 }),
      svg('rect', { class: 'box', width: W, height: H, rx: 7 }),
      svg('rect', { class: 'stripe', width: 6, height: H, rx: 3 }),
      parts.pid, parts.label, parts.statBg, parts.stat, parts.tag);
    g.parts = parts;
    return g;
  }

  // Scroll the selected node into view if it is not.
  reveal(pid) {
    const g = this.nodeEls.get(pid);
    if (!g) return;
    const box = g.getBoundingClientRect();
    const host = this.host.getBoundingClientRect();
    if (box.top < host.top || box.bottom > host.bottom || box.left < host.left || box.right > host.right) {
      g.scrollIntoView({ block: 'nearest', inline: 'nearest', behavior: 'smooth' });
    }
  }
}
