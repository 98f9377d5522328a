// Wires the page: one store, one websocket, one small view per part.
// Data flows down (store events); actions bubble up as DOM CustomEvents
// ('select-pid', 'select-run', 'run-started') handled here.

import { Store } from './store.js';
import { connect } from './conn.js';
import { api } from './api.js';
import { initLang, applyStatic, t } from './i18n.js';
import { toast } from './toast.js';
import { eventText } from './eventfmt.js';
import { LabsView } from './labs.js';
import { TreeView } from './tree.js';
import { hasLinks } from './tree-links.js';
import { TableView } from './table.js';
import { SocketsView } from './sockets.js';
import { DetailsView } from './details.js';
import { SourceView } from './source.js';
import { TerminalsView } from './terminals.js';
import { EventsView } from './events.js';
import { RunBar } from './runbar.js';
import { setupHeader, setupTabs } from './header.js';
import { setupKeys } from './keys.js';
import { current as controlToken, keep as keepToken, takeFromUrl } from './token.js';

const $ = (id) => document.getElementById(id);
const body = document.body;
const store = new Store();

// Control: the teacher's link (?token=, checked by the server), or, reloaded,
// the token this tab kept, which the server is asked about.
async function mayControl() {
  const given = takeFromUrl();
  if (body.dataset.canControl === 'true') {
    if (given) keepToken(given);
    return true;
  }
  if (given !== null || !controlToken()) return false;      // a wrong link says so in the header
  try {
    const answer = await api.control();
    if (!answer.control) keepToken(null);                   // an old token: the dashboard restarted
    return answer.control;
  } catch {
    return false;
  }
}
const canControl = await mayControl();
body.dataset.canControl = String(canControl);
store.followNewRuns = !canControl;    // a watching student follows what the teacher starts
body.classList.toggle('watch-only', !canControl);
initLang();
applyStatic();

const ui = {
  canControl,
  projector: false,
  labsOpen: false,
  labs: new LabsView($('labs'), store),
  tree: new TreeView($('tree'), store),
  table: new TableView($('table'), store),
  sockets: new SocketsView($('sockets'), store),
  details: new DetailsView($('details'), store),
  source: new SourceView($('source'), store),
  terminals: new TerminalsView($('terminal'), store, canControl),
  events: new EventsView($('events'), store),
  runbar: new RunBar($('runbar'), store),
};

// The channels' colours are told only while some run has a channel to draw.
store.on('runs', () => { $('link-legend').hidden = !hasLinks(store.runs); });

const VIEWS = ['tree', 'table', 'sockets'];
const viewTabs = setupTabs($('view-tabs'), { tree: $('tree'), table: $('table'), sockets: $('sockets') }, (name) => {
  if (name === 'table') ui.table.render();
  else if (name === 'sockets') ui.sockets.render();
  else ui.tree.schedule();
  $('zoom').hidden = name !== 'tree';
  $('view-legend').hidden = name === 'sockets';      // process states: not what the sockets view colours
  $('sockets-legend').hidden = name !== 'sockets';
});
const sideTabs = setupTabs($('side-tabs'), { process: $('details'), source: $('source') });
const dockTabs = setupTabs($('dock-tabs'), { terminal: $('terminal'), events: $('events') }, (name) => {
  if (name === 'events') ui.events.scrollToEnd();
  ui.terminals.sync();
});
viewTabs.show('tree');
sideTabs.show('process');
dockTabs.show('terminal');

ui.nextView = () => viewTabs.show(VIEWS[(VIEWS.indexOf(viewTabs.current()) + 1) % VIEWS.length]);
ui.toggleSource = () => sideTabs.show(sideTabs.current() === 'source' ? 'process' : 'source');

ui.setProjector = (on) => {
  ui.projector = on;
  body.classList.toggle('projector', on);
  $('btn-projector').setAttribute('aria-pressed', String(on));
  ui.tree.maxAuto = on ? 1.7 : 1.15;     // a projector's big screen: bigger nodes
  ui.terminals.setFontSize(on ? 17 : 13);
  const url = new URL(location.href);
  if (on) url.searchParams.set('projector', '1');
  else url.searchParams.delete('projector');
  history.replaceState(null, '', url);
  ui.labsOpen = false;
  body.classList.remove('labs-open');
  $('btn-labs').setAttribute('aria-expanded', String(ui.labsVisible()));
  ui.tree.schedule();
};

// The labs panel: a drawer over the page in projector mode, a column that folds away otherwise.
ui.labsVisible = () => (ui.projector ? ui.labsOpen : !ui.labsFolded);
ui.toggleLabs = (open = !ui.labsVisible()) => {
  if (ui.projector) {
    ui.labsOpen = open;
    body.classList.toggle('labs-open', open);
    if (open) $('labs').querySelector('.lab-head')?.focus();
  } else {
    ui.labsFolded = !open;
    body.classList.toggle('labs-folded', !open);
  }
  $('btn-labs').setAttribute('aria-expanded', String(ui.labsVisible()));
  ui.tree.schedule();
};

ui.toggleHelp = (open = $('help').hidden) => {
  if (open) ui.renderHelp();
  $('help').hidden = !open;
  if (open) $('help').querySelector('button')?.focus();
};

$('zoom').addEventListener('click', (e) => {
  const b = e.target.closest('[data-zoom]');
  if (!b) return;
  const z = b.dataset.zoom;
  if (z === 'in') ui.tree.zoomBy(1.2);
  else if (z === 'out') ui.tree.zoomBy(1 / 1.2);
  else ui.tree.setZoom(z);
});

setupHeader(store, ui);
setupKeys(store, ui);

// -- actions bubbling up --------------------------------------------------
document.addEventListener('select-pid', (e) => {
  store.select(e.detail);
  if (sideTabs.current() !== 'process') sideTabs.show('process');
});
document.addEventListener('select-run', (e) => store.selectRun(e.detail));
document.addEventListener('run-started', (e) => {
  store.wantRun = e.detail.run;
  store.wantPid = e.detail.pid;
  if (store.runs.has(e.detail.run)) store.selectRun(e.detail.run);
  if (ui.projector && ui.labsOpen) ui.toggleLabs(false);
  dockTabs.show('terminal');
});
// Lab init lost (and replaced), or a gap in what it told: the whole class should know.
store.on('event', ({ event, replayed }) => {
  if (!replayed && (event.kind === 'lab_init' || event.kind === 'resync')) {
    toast(eventText(event, store.launcherPid), { kind: 'error', title: t('toast.labInit') });
  }
});
store.on('runs', () => {
  if (store.wantRun && store.runs.has(store.wantRun)) { store.selectRun(store.wantRun); store.wantRun = null; }
});
store.on('procs', () => {
  if (store.wantPid && store.procs.has(store.wantPid)) { store.select(store.wantPid); store.wantPid = null; }
});

// -- data -----------------------------------------------------------------
async function loadStatic() {
  try {
    const [labs, signals] = await Promise.all([api.labs(), api.signals()]);
    store.setLabs(labs);
    store.setSignals(signals.signals);
  } catch {
    setTimeout(loadStatic, 3000);      // the server is not there yet: try again
  }
}
// The catalogue first, so the runs arrive into a page that already knows their labs.
loadStatic().finally(() => connect(store));

if (new URLSearchParams(location.search).get('projector') === '1') ui.setProjector(true);
window.proclab = { store, ui };        // for the browser tests and the curious
