// The operator dashboard: loads /v1/dashboard/state, then follows /v1/events with fetch (not
// EventSource, which cannot send the Authorization header; keys never go into URLs).
import { drawMarkers, drawWorld } from '/dashboard/world-map.js';
import { renderHosts, meter, text as cell } from '/dashboard/hosts-panel.js';

const KEY_STORAGE = 'rallypoint.apiKey';
const $ = (id) => document.getElementById(id);
const state = { snapshot: null, loadedAt: 0, lastEventId: undefined, stream: null, reloadTimer: null, retryMs: 1000 };
let markers;

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

function api(path, init = {}) {
  return fetch(path, { ...init, headers: { authorization: `token ${apiKey()}`, ...(init.headers ?? {}) } });
}

function setConnection(text) {
  $('connection').textContent = text;
}

function statusClass(status) {
  if (status === 'Ready' || status === 'Status.READY') return 'status-ready';
  if (/error|unprocessable|terminat/i.test(status)) return 'status-bad';
  return 'status-other';
}

function shortStatus(status) {
  return status
    .replace(/^Status\./, '')
    .toLowerCase()
    .replace(/^\w/, (c) => c.toUpperCase());
}

function age(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function filters() {
  return { app: $('filter-app').value, version: $('filter-version').value, status: $('filter-status').value };
}

function matches(item, f) {
  return (
    (!f.app || item.app === f.app) &&
    (!f.version || item.version === f.version) &&
    (!f.status || shortStatus(item.status) === f.status)
  );
}

function fillSelect(select, values, allLabel) {
  const current = select.value;
  select.replaceChildren(new Option(allLabel, ''), ...[...values].sort().map((v) => new Option(v, v)));
  select.value = values.has(current) ? current : '';
}

function renderFilters(snapshot) {
  const items = [...snapshot.deployments, ...snapshot.sessions];
  fillSelect($('filter-app'), new Set(items.map((i) => i.app)), 'All apps');
  fillSelect(
    $('filter-version'),
    new Set(items.filter((i) => !$('filter-app').value || i.app === $('filter-app').value).map((i) => i.version)),
    'All versions',
  );
  fillSelect($('filter-status'), new Set(items.map((i) => shortStatus(i.status))), 'All statuses');
}

function render(fresh = new Set()) {
  const snapshot = state.snapshot;
  if (!snapshot) return;
  const f = filters();
  const deployments = snapshot.deployments.filter((d) => matches(d, f));
  const sessions = snapshot.sessions.filter((s) => matches(s, f));
  const drift = Math.floor((Date.now() - state.loadedAt) / 1000);
  $('deployments').replaceChildren(
    ...deployments.map((d) => {
      const tr = document.createElement('tr');
      if (fresh.has(d.request_id)) tr.className = 'fresh';
      tr.append(
        cell(d.request_id),
        cell(`${d.app} / ${d.version}`),
        cell(shortStatus(d.status), statusClass(d.status)),
        cell([d.city, d.country].filter(Boolean).join(', ') || '—'),
        meter(d.sockets_usage, d.sockets, 'seats'),
      );
      return tr;
    }),
  );
  $('sessions').replaceChildren(
    ...sessions.map((s) => {
      const tr = document.createElement('tr');
      if (fresh.has(s.session_id)) tr.className = 'fresh';
      tr.append(
        cell(s.session_id),
        cell(`${s.app} / ${s.version}`),
        cell(s.status, statusClass(s.status)),
        cell(String(s.user_count)),
        cell(age(s.elapsed + drift)),
        cell(s.deployment_request_id ?? '—'),
      );
      return tr;
    }),
  );
  if (deployments.length === 0) $('deployments').append(emptyRow(5, 'No deployments match.'));
  if (sessions.length === 0) $('sessions').append(emptyRow(6, 'No sessions match.'));
  $('totals').textContent = `${deployments.length} deployment(s), ${sessions.length} session(s) shown`;
  drawMarkers(markers, deployments, sessions);
  renderHosts($('hosts-card'), $('hosts'), snapshot);
}

function emptyRow(columns, text) {
  const tr = document.createElement('tr');
  const td = cell(text);
  td.colSpan = columns;
  tr.append(td);
  return tr;
}

async function loadState(fresh) {
  const response = await api('/v1/dashboard/state');
  if (response.status === 401)
    throw Object.assign(new Error('This API key is unknown or revoked.'), { unauthorized: true });
  if (!response.ok) throw new Error(`Loading failed (HTTP ${response.status}).`);
  state.snapshot = await response.json();
  state.loadedAt = Date.now();
  if (state.lastEventId === undefined) state.lastEventId = state.snapshot.latest_event_id;
  renderFilters(state.snapshot);
  render(fresh);
}

const pendingFresh = new Set();
function scheduleReload(subject) {
  if (subject) pendingFresh.add(subject);
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(() => {
    const fresh = new Set(pendingFresh);
    pendingFresh.clear();
    loadState(fresh).catch((error) => setConnection(error.message));
  }, 200);
}

function announce(event) {
  const item = document.createElement('li');
  const subject = event.session_id ?? event.request_id;
  item.textContent = `${new Date(event.time).toLocaleTimeString()} ${event.type.replace('.', ' ').replace('_', ' ')} ${subject}`;
  const list = $('activity');
  list.prepend(item);
  while (list.children.length > 50) list.lastElementChild.remove();
}

function handleBlock(block) {
  let data;
  let id;
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('data: ')) data = line.slice(6);
  }
  if (!data) return;
  const event = JSON.parse(data);
  if (id) state.lastEventId = Number(id);
  // The events since our id are not coming (docs/wire-contract.md#event-stream): reload all.
  if (event.type === 'resync') return scheduleReload();
  announce(event);
  scheduleReload(event.session_id ?? event.request_id);
}

async function follow() {
  const controller = new AbortController();
  state.stream = controller;
  try {
    const headers = state.lastEventId !== undefined ? { 'last-event-id': String(state.lastEventId) } : {};
    const response = await api('/v1/events', {
      headers: { accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    setConnection('Live');
    state.retryMs = 1000;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        handleBlock(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch (error) {
    if (controller.signal.aborted) return;
  }
  if (state.stream !== controller) return;
  setConnection(`Reconnecting in ${Math.round(state.retryMs / 1000)} s`);
  setTimeout(() => state.stream === controller && follow(), state.retryMs);
  state.retryMs = Math.min(30_000, state.retryMs * 2);
}

function showBoard(signedIn) {
  $('sign-in').hidden = signedIn;
  $('board').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
}

async function start() {
  setConnection('Loading…');
  try {
    await loadState();
  } catch (error) {
    if (error.unauthorized) sessionStorage.removeItem(KEY_STORAGE);
    showBoard(false);
    $('sign-in-error').textContent = error.message;
    setConnection('Signed out');
    return;
  }
  showBoard(true);
  void follow();
}

function signOut() {
  state.stream?.abort();
  state.stream = null;
  state.snapshot = null;
  state.lastEventId = undefined;
  sessionStorage.removeItem(KEY_STORAGE);
  showBoard(false);
  setConnection('Signed out');
  $('api-key').focus();
}

markers = drawWorld($('map'));
$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('sign-in-error').textContent = '';
  sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
  $('api-key').value = '';
  void start();
});
$('sign-out').addEventListener('click', signOut);
for (const id of ['filter-app', 'filter-version', 'filter-status'])
  $(id).addEventListener('change', () => {
    renderFilters(state.snapshot);
    render();
  });
// Ages keep counting between loads.
setInterval(() => render(), 10_000);
if (apiKey()) void start();
