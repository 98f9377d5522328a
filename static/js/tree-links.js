// The channels between processes, drawn over the tree: a dashed curve between two
// nodes for every pipe, Unix socketpair, shared memory or semaphore they both hold
// (each run's `links`), with an arrow from writer to reader on a one-way pipe.  When
// a process is selected, every process it shares something with gets a badge naming
// what (on its own box, so no label covers another node).  Pure pairing (linkPairs)
// plus a layer the tree owns and hands its layout to.

import { svg } from './dom.js';
import { t } from './i18n.js';
import { GEO } from './tree-layout.js';

// The kinds, most telling first (a pair's colour, the details' order).  Pipes come last:
// after fork() every child holds the pipes its parent had, multiprocessing's own among them.
export const TELLING = ['unix', 'shm', 'sem', 'pipe'];
const CLIQUE = 4;      // shared memory held by up to this many: every pair; more: a star

// links: a run's `links` -> [{a, b, kinds: {pipe: 1, sem: 2}, forward, backward, ids: [...]}],
// one per pair of processes (a < b).  forward: a pipe carries data from a to b.
// A pipe joins each writer to each reader, a socketpair each holder of one socket to
// each holder of the other; shared memory and semaphores join every two holders (the
// deadlock's two workers share its locks), or, past CLIQUE holders (a Pool), the lowest
// PID holding them (usually the parent that made them) to every other one: a star.
export function linkPairs(links) {
  const pairs = new Map();
  const add = (x, y, kind, id, flow) => {
    if (x === y) return;
    const [a, b] = x < y ? [x, y] : [y, x];
    const key = `${a}-${b}`;
    const p = pairs.get(key) || { key, a, b, kinds: {}, forward: false, backward: false, ids: [] };
    p.kinds[kind] = (p.kinds[kind] || 0) + 1;
    p.ids.push([kind, id]);
    if (flow) { if (x === a) p.forward = true; else p.backward = true; }
    pairs.set(key, p);
  };
  for (const link of links || []) {
    const ends = link.ends || [];
    const pids = (pred) => [...new Set(ends.filter(pred).map((e) => e.pid))];
    if (link.kind === 'pipe') {
      const readers = pids((e) => e.mode.includes('r'));
      for (const w of pids((e) => e.mode.includes('w'))) for (const r of readers) add(w, r, 'pipe', link.id, true);
    } else if (link.kind === 'unix') {
      const sides = [...new Set(ends.map((e) => e.inode))].map((inode) => pids((e) => e.inode === inode));
      if (sides.length === 2) {
        // Pairs once each, even when every holder holds both sockets (after fork()).
        const seen = new Set();
        for (const x of sides[0]) for (const y of sides[1]) {
          const k = x < y ? `${x}-${y}` : `${y}-${x}`;
          if (!seen.has(k)) { seen.add(k); add(x, y, 'unix', link.id, false); }
        }
      }
    } else {
      const holders = pids(() => true).sort((x, y) => x - y);
      const hubs = holders.length <= CLIQUE ? holders : holders.slice(0, 1);
      hubs.forEach((x, i) => { for (const y of holders.slice(i + 1)) add(x, y, link.kind, link.id, false); });
    }
  }
  return [...pairs.values()];
}

// The kinds only: after fork() a child holds every pipe its parent had (multiprocessing's
// own, per child, too), so counts say more about inheritance than about the lesson;
// the tooltip and the details list every object.
export function pairLabel(p) {
  return TELLING.filter((k) => p.kinds[k]).map((k) => t(`link.${k}`)).join(' · ');
}

// How much room right of the tree the curves need (nodes one above the other in the
// last column bow out past it).
export const LINK_MARGIN = 44;

export function hasLinks(runs) {
  return [...runs.values()].some((r) => r.state !== 'ended' && (r.links || []).length);
}

export class LinkLayer {
  constructor() {
    this.g = svg('g', { class: 'links' });          // the curves: under the nodes
    this.gTop = svg('g', { class: 'link-labels' }); // arrows and badges: over them
    this.els = new Map();       // pair key -> {g, top, path, arrow, title}
    this.badges = new Map();    // pid -> {g, bg, text}
  }

  // lay: the tree's layout (nodes with pid, x, y); runs: the store's runs; selected: a pid.
  render(lay, runs, selected) {
    const at = new Map(lay.nodes.filter((n) => !n.ghost).map((n) => [n.pid, n]));
    const keep = new Set();
    const badges = new Map();   // pid -> the pair it shares with the selected process
    for (const run of runs.values()) {
      if (run.state === 'ended') continue;
      for (const p of linkPairs(run.links)) {
        if (!at.has(p.a) || !at.has(p.b)) continue;
        keep.add(p.key);
        const mine = p.a === selected || p.b === selected;
        this.draw(p, at.get(p.a), at.get(p.b), mine);
        if (mine) badges.set(p.a === selected ? p.b : p.a, p);
      }
    }
    for (const [key, el] of this.els) if (!keep.has(key)) { el.g.remove(); el.top.remove(); this.els.delete(key); }
    for (const [pid, p] of badges) this.badge(at.get(pid), p);
    for (const [pid, b] of this.badges) if (!badges.has(pid)) { b.g.remove(); this.badges.delete(pid); }
  }

  draw(p, na, nb, mine) {
    let el = this.els.get(p.key);
    if (!el) {
      el = { path: svg('path', { class: 'link-path' }), arrow: svg('path', { class: 'link-arrow' }), title: svg('title') };
      el.g = svg('g', { class: 'link' }, el.title, el.path);
      el.top = svg('g', { class: 'link' }, el.arrow);
      this.els.set(p.key, el);
      this.g.append(el.g);
      this.gTop.append(el.top);
    }
    const cls = `link link-${TELLING.find((k) => p.kinds[k])}${mine ? ' link-mine' : ''}`;
    el.g.setAttribute('class', cls);
    el.top.setAttribute('class', cls);
    el.g.dataset.pair = p.key;
    const { W, H } = GEO;
    let pa; let pb; let c;
    if (Math.abs(na.x - nb.x) < W / 2) {
      // One above the other (siblings, a group's column): right side to right side,
      // bowed out into the gap between columns, away from the tree's edges on the left.
      pa = [na.x + W, na.y + H / 2];
      pb = [nb.x + W, nb.y + H / 2];
      c = [Math.max(pa[0], pb[0]) + 2 * Math.min(LINK_MARGIN - 6, 16 + Math.abs(pb[1] - pa[1]) * 0.1), (pa[1] + pb[1]) / 2];
    } else {
      // Side by side (a parent and its child, cousins): facing sides, sagging below
      // the tree edge that may join the same two nodes.
      const aLeft = na.x < nb.x;
      pa = [aLeft ? na.x + W : na.x, na.y + H / 2];
      pb = [aLeft ? nb.x : nb.x + W, nb.y + H / 2];
      c = [(pa[0] + pb[0]) / 2, Math.max(pa[1], pb[1]) + 2 * 16];
    }
    el.path.setAttribute('d', `M${pa[0]},${pa[1]} Q${c[0]},${c[1]} ${pb[0]},${pb[1]}`);
    // A pipe's data flows one way: an arrowhead at the curve's middle (its tangent there
    // is parallel to the chord), writer to reader; none if it flows both ways.
    const oneWay = p.forward !== p.backward;
    el.arrow.style.display = oneWay ? '' : 'none';
    if (oneWay) {
      const mx = 0.25 * pa[0] + 0.5 * c[0] + 0.25 * pb[0];
      const my = 0.25 * pa[1] + 0.5 * c[1] + 0.25 * pb[1];
      const ang = Math.atan2(pb[1] - pa[1], pb[0] - pa[0]) + (p.forward ? 0 : Math.PI);
      const tip = (r, a) => `${mx + r * Math.cos(ang + a)},${my + r * Math.sin(ang + a)}`;
      el.arrow.setAttribute('d', `M${tip(7, 0)} L${tip(7, 2.5)} L${tip(7, -2.5)} Z`);
    }
    el.title.textContent = `${p.a} ↔ ${p.b}: ${p.ids.map(([k, id]) => `${t(`link.${k}`)} ${id}`).join(', ')}`;
  }

  // On the box of a process the selected one shares something with: what, by kind.
  badge(n, p) {
    let b = this.badges.get(n.pid);
    if (!b) {
      b = { bg: svg('rect', { class: 'link-badge-bg', rx: 7, height: 15 }), text: svg('text', { class: 'link-badge-text' }) };
      b.g = svg('g', { class: 'link-badge' }, b.bg, b.text);
      this.badges.set(n.pid, b);
      this.gTop.append(b.g);
    }
    const text = pairLabel(p);
    const big = document.body.classList.contains('projector');     // 12 px there, 10.5 here
    const w = [...text].reduce((s, ch) => s + (/[\u2e80-\uffff]/.test(ch) ? (big ? 13 : 11) : (big ? 7 : 6.2)), 0) + 12;
    b.g.setAttribute('class', `link-badge link-${TELLING.find((k) => p.kinds[k])}`);
    b.g.dataset.pid = n.pid;
    b.g.style.transform = `translate(${n.x + 12}px, ${n.y - 8}px)`;     // top left; tags sit top right
    b.bg.setAttribute('width', w);
    b.text.setAttribute('x', 6);
    b.text.setAttribute('y', 11);
    b.text.textContent = text;
  }
}
