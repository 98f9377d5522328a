// Where every process goes in the tree, like `pstree`: depth is the column,
// a parent sits on the row of its first child, children are sorted by PID.
// Pure: takes processes, returns positions.  Adding a process only pushes the
// rows below it down; nothing above it moves.

export const GEO = { W: 148, H: 40, COL: 172, ROW: 54, PAD: 14, TOP: 14 };

// entries: Map pid -> {obj, ghost}; rootPid: lab init (ghosts with no parent hang there);
// maxCols: how many columns fit.  Three or more childless siblings are packed into a
// grid ("a group"), several to a row, so a tree of 100 processes stays readable;
// minPer: put at least this many in a row even if the tree gets wider than maxCols.
export function layoutTree(entries, rootPid, maxCols = 99, minPer = 1) {
  const nodes = new Map();
  for (const [pid, e] of entries) nodes.set(pid, { pid, obj: e.obj, ghost: e.ghost, kids: [] });

  const roots = [];
  for (const n of nodes.values()) {
    let parent = nodes.get(n.obj.ppid);
    if ((!parent || parent === n) && n.ghost && rootPid !== null && nodes.has(rootPid) && n.pid !== rootPid) {
      parent = nodes.get(rootPid);     // its parent is gone too: show it where orphans go
    }
    if (parent && parent !== n) parent.kids.push(n);
    else roots.push(n);
  }
  roots.sort((a, b) => (a.pid === rootPid ? -1 : b.pid === rootPid ? 1 : a.pid - b.pid));

  let row = 0;
  let maxDepth = 0;
  const order = [];          // pids, top to bottom, for keyboard navigation
  const seen = new Set();
  const groups = [];
  function place(n, depth) {
    seen.add(n.pid);
    n.depth = depth;
    maxDepth = Math.max(maxDepth, depth);
    order.push(n.pid);
    // Under lab init, a run's session, its adopted orphans and its helpers (clients)
    // stay together, run after run; elsewhere, children by PID.
    const kids = n.kids.filter((k) => !seen.has(k.pid))
      .sort(n.pid === rootPid ? (a, b) => runOrder(a.obj.run) - runOrder(b.obj.run) || a.pid - b.pid : (a, b) => a.pid - b.pid);
    const leaves = kids.filter((k) => !k.kids.length);
    const per = Math.min(leaves.length, Math.max(minPer, maxCols - depth - 1));
    const pack = n.pid !== rootPid && leaves.length >= 3 && per >= 2;
    const blocks = pack
      ? [...kids.filter((k) => k.kids.length).map((k) => ({ min: k.pid, kid: k })), { min: leaves[0].pid, group: leaves }]
        .sort((a, b) => a.min - b.min)
      : kids.map((k) => ({ kid: k }));
    let first = null;
    for (const b of blocks) {
      if (b.kid) {
        if (seen.has(b.kid.pid)) continue;
        place(b.kid, depth + 1);
        first = first ?? b.kid.row;
        continue;
      }
      const g = { parent: n, members: b.group, depth: depth + 1, row0: row, per, rows: Math.ceil(b.group.length / per) };
      b.group.forEach((k, i) => {
        seen.add(k.pid);
        order.push(k.pid);
        k.depth = depth + 1 + (i % per);
        k.row = row + Math.floor(i / per);
        k.lastRow = k.row;
        k.group = g;
        maxDepth = Math.max(maxDepth, k.depth);
      });
      row += g.rows;
      groups.push(g);
      first = first ?? g.row0;
    }
    n.row = first ?? row++;
    n.lastRow = row - 1;
  }
  for (const r of roots) if (!seen.has(r.pid)) place(r, 0);

  const x = (depth) => GEO.PAD + depth * GEO.COL;
  const y = (r) => GEO.TOP + r * GEO.ROW;
  const placed = [];
  for (const n of nodes.values()) {
    if (!seen.has(n.pid)) continue;
    n.x = x(n.depth);
    n.y = y(n.row);
    placed.push(n);
  }
  const edges = [];
  for (const n of placed) {
    for (const k of n.kids) {
      if (!seen.has(k.pid) || k.group || k.depth !== n.depth + 1) continue;
      edges.push({ key: `p${k.pid}`, parent: n, child: k, d: edgePath(n, k) });
    }
  }
  for (const g of groups) {
    g.x = x(g.depth) - 7;
    g.y = y(g.row0) - 7;
    g.width = (g.per - 1) * GEO.COL + GEO.W + 14;
    g.height = (g.rows - 1) * GEO.ROW + GEO.H + 14;
    edges.push({ key: `g${g.parent.pid}`, parent: g.parent, child: null, group: g,
      d: edgePath(g.parent, { x: g.x, y: y(g.row0) }) });
  }
  return {
    nodes: placed,
    byPid: nodes,
    edges,
    groups,
    order,
    width: x(maxDepth) + GEO.W + GEO.PAD,
    height: y(Math.max(row, 1)) + GEO.PAD - (GEO.ROW - GEO.H),
    rowY: y,
  };
}

// "r12" -> 12; processes of no run last.
function runOrder(run) {
  const m = /^r(\d+)$/.exec(run || '');
  return m ? Number(m[1]) : Infinity;
}

// How many columns fit in `width` pixels at `scale`.
export function columnsFor(width, scale) {
  return Math.max(3, Math.floor((width / scale - 2 * GEO.PAD + (GEO.COL - GEO.W)) / GEO.COL));
}

// From the parent's right edge to the child's left edge: across, down, across.
export function edgePath(p, c) {
  const x1 = p.x + GEO.W;
  const y1 = p.y + GEO.H / 2;
  const x2 = c.x;
  const y2 = c.y + GEO.H / 2;
  const mx = x1 + (x2 - x1) / 2;
  if (Math.abs(y2 - y1) < 1) return `M${x1},${y1} H${x2}`;
  const r = 8;
  return `M${x1},${y1} H${mx - r} Q${mx},${y1} ${mx},${y1 + r} V${y2 - r} Q${mx},${y2} ${mx + r},${y2} H${x2}`;
}

// Cut a label to fit about `px` pixels (CJK characters are about twice as wide).
export function fit(text, px, size = 12) {
  let width = 0;
  let out = '';
  for (const ch of text || '') {
    const w = /[\u2e80-\uffff]/.test(ch) ? size : size * 0.58;
    if (width + w > px) return `${out.trimEnd()}…`;
    width += w;
    out += ch;
  }
  return out;
}
