// The channels between processes, drawn over the tree: a dashed curve between two
// nodes for every pipe, Unix socketpair, shared memory or semaphore they both hold
// (each run's `links`), labelled, with an arrow from writer to reader on a pipe.
// Pure pairing (linkPairs) plus a layer the tree owns and hands its layout to.

import { svg, clear } from './dom.js';
import { t } from './i18n.js';
import { GEO } from './tree-layout.js';

const ORDER = ['pipe', 'unix', 'shm', 'sem'];

// links: a run's `links` -> [{a, b, kinds: {pipe: 1, sem: 2}, forward, backward, ids: [...]}],
// one per pair of processes (a < b).  forward: a pipe carries data from a to b.
// A pipe joins each writer to each reader, a socketpair each holder of one socket to
// each holder of the other; shared memory and semaphores join the lowest PID holding
// them (usually the parent that made them) to every other holder: a star, not a clique.
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
      for (const other of holders.slice(1)) add(holders[0], other, link.kind, link.id, false);
    }
  }
  return [...pairs.values()];
}

// The kinds only: after fork() a child holds every pipe its parent had (multiprocessing's
// own, per child, too), so counts say more about inheritance than about the lesson;
// the tooltip and the details list every object.
export function pairLabel(p) {
  return ORDER.filter((k) => p.kinds[k]).map((k) => t(`link.${k}`)).join(' · ');
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
    this.gTop = svg('g', { class: 'link-labels' }); // labels and arrows: over them, readable
    this.els = new Map();       // pair key -> {g, top, path, arrow, label, bg, title}
  }

  // lay: the tree's layout (nodes with pid, x, y); runs: the store's runs; selected: a pid.
  // Every link is drawn; the selected process's are labelled (a label on every one
  // would cover the nodes: a Pool's workers hold the same dozen objects).
  render(lay, runs, selected) {
    const at = new Map(lay.nodes.filter((n) => !n.ghost).map((n) => [n.pid, n]));
    const shown = [];
    for (const run of runs.values()) {
      if (run.state === 'ended') continue;
      for (const p of linkPairs(run.links)) if (at.has(p.a) && at.has(p.b)) shown.push(p);
    }
    const keep = new Set();
    this.bounds = [lay.width, lay.height];     // labels stay inside the picture
    for (const p of shown) {
      keep.add(p.key);
      const mine = p.a === selected || p.b === selected;    // labelled; the others by colour (legend)
      this.draw(p, at.get(p.a), at.get(p.b), mine, mine);
    }
    for (const [key, el] of this.els) if (!keep.has(key)) { el.g.remove(); el.top.remove(); this.els.delete(key); }
  }

  draw(p, na, nb, labelled, mine) {
    let el = this.els.get(p.key);
    if (!el) {
      el = { path: svg('path', { class: 'link-path' }), arrow: svg('path', { class: 'link-arrow' }),
        bg: svg('rect', { class: 'link-label-bg', rx: 7, height: 16 }), label: svg('text', { class: 'link-label' }),
        title: svg('title') };
      el.g = svg('g', { class: 'link' }, el.path);
      el.top = svg('g', { class: 'link' }, el.title, el.arrow, el.bg, el.label);
      this.els.set(p.key, el);
      this.g.append(el.g);
      this.gTop.append(el.top);
    }
    const main = ORDER.find((k) => p.kinds[k]);
    const cls = `link link-${main}${mine ? ' link-mine' : ''}`;
    el.g.setAttribute('class', cls);
    el.top.setAttribute('class', cls);
    el.top.dataset.pair = p.key;
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
    const mx = 0.25 * pa[0] + 0.5 * c[0] + 0.25 * pb[0];
    const my = 0.25 * pa[1] + 0.5 * c[1] + 0.25 * pb[1];
    // A pipe's data flows one way: an arrowhead at the curve's middle (its tangent there
    // is parallel to the chord), writer to reader; none if it flows both ways.
    const oneWay = p.forward !== p.backward;
    el.arrow.style.display = oneWay ? '' : 'none';
    if (oneWay) {
      const ang = Math.atan2(pb[1] - pa[1], pb[0] - pa[0]) + (p.forward ? 0 : Math.PI);
      const tip = (r, a) => `${mx + r * Math.cos(ang + a)},${my + r * Math.sin(ang + a)}`;
      el.arrow.setAttribute('d', `M${tip(7, 0)} L${tip(7, 2.5)} L${tip(7, -2.5)} Z`);
    }
    el.bg.style.display = labelled ? '' : 'none';
    el.label.style.display = labelled ? '' : 'none';
    if (labelled) {
      const text = pairLabel(p);
      const big = document.body.classList.contains('projector');     // 13 px labels there, 11 here
      const w = [...text].reduce((s, ch) => s + (/[\u2e80-\uffff]/.test(ch) ? (big ? 14 : 12) : (big ? 7.8 : 6.6)), 0) + 10;
      const lx = Math.max(2, Math.min(mx - w / 2, this.bounds[0] - w - 2));
      const ly = Math.max(10, Math.min(my, this.bounds[1] - 10));
      el.label.textContent = text;
      el.label.setAttribute('x', lx + 5);
      el.label.setAttribute('y', ly + 4);
      el.bg.setAttribute('x', lx);
      el.bg.setAttribute('y', ly - 8);
      el.bg.setAttribute('width', w);
    }
    el.title.textContent = `${p.a} ↔ ${p.b}: ${p.ids.map(([k, id]) => `${t(`link.${k}`)} ${id}`).join(', ')}`;
  }

  clear() { clear(this.g); clear(this.gTop); this.els.clear(); }
}
