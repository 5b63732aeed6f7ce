// The node's page. Every string that came from the network (file names,
// hosts, command output) is put into the page with textContent, never as
// HTML: names in search results are chosen by whoever answers.
'use strict';

const state = {
  token: '',
  pendingQuery: null,   // the query of the search this page is waiting for
  results: [],
  transfers: new Map(), // download id -> its element
};

function takeToken() {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]{16,256})/.exec(location.hash);
  if (match) {
    sessionStorage.setItem('p2pnet-token', match[1]);
    // Out of the address bar and the history, so it is not shared by accident.
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('p2pnet-token') || '';
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function formatBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(n) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return (unit === 0 ? value.toFixed(0) : value.toFixed(1)) + ' ' + units[unit];
}

function formatEta(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return 'ETA ' + m + ':' + String(s % 60).padStart(2, '0');
}

async function api(path, options) {
  const response = await fetch(path, Object.assign({ headers: {} }, options, {
    headers: Object.assign({ 'Authorization': 'Bearer ' + state.token, 'Content-Type': 'application/json' },
      (options || {}).headers),
  }));
  const body = await response.json().catch(() => ({ error: 'not JSON' }));
  if (!response.ok) throw new Error(body.error || ('HTTP ' + response.status));
  return body;
}

function command(line) {
  return api('/api/command', { method: 'POST', body: JSON.stringify({ command: line }) });
}

function fillLines(list, lines) {
  list.replaceChildren(...lines.map((line) => el('li', line)));
}

function addNotice(text) {
  const list = document.getElementById('notices');
  list.prepend(el('li', new Date().toLocaleTimeString() + '  ' + text));
  while (list.children.length > 200) list.lastChild.remove();
}

// --- Peers -------------------------------------------------------------------
async function refreshPeers() {
  try {
    const { peers } = await api('/api/peers');
    const body = document.querySelector('#peers tbody');
    body.replaceChildren(...peers.map((peer) => {
      const row = el('tr');
      const id = el('td', peer.id.slice(0, 16));
      id.title = peer.id;
      row.append(id, el('td', peer.host + ':' + peer.port), el('td', peer.inbound ? 'inbound' : 'outbound'),
        el('td', peer.authenticated ? 'yes' : 'no'));
      return row;
    }));
    document.getElementById('peer-count').textContent = '(' + peers.length + ')';
  } catch (e) {
    addNotice('peers: ' + e.message);
  }
}

// --- Search and download -----------------------------------------------------
async function search(event) {
  event.preventDefault();
  const query = document.getElementById('search-query').value.trim();
  const status = document.getElementById('search-status');
  if (query.includes('"')) {
    status.textContent = 'a query cannot hold a double quote';
    return;
  }
  state.pendingQuery = query;
  document.querySelector('#results tbody').replaceChildren();
  status.textContent = 'searching...';
  document.getElementById('search-button').disabled = true;
  try {
    const result = await command('search "' + query + '"');
    const last = result.lines[result.lines.length - 1] || '';
    status.textContent = result.status === 0 ? last : ('error: ' + result.lines.join(' '));
  } catch (e) {
    status.textContent = 'error: ' + e.message;
  } finally {
    document.getElementById('search-button').disabled = false;
  }
}

function showResults(data) {
  if (state.pendingQuery === null || data.query !== state.pendingQuery || !Array.isArray(data.results)) return;
  state.results = data.results;
  const body = document.querySelector('#results tbody');
  body.replaceChildren(...data.results.map((result) => {
    const row = el('tr');
    row.dataset.sha256 = String(result.sha256);
    const name = el('td', result.name, 'result-name');
    name.title = String(result.name);
    const hash = el('td', String(result.sha256).slice(0, 16));
    hash.title = String(result.sha256);
    const button = el('button', 'Download', 'download');
    button.type = 'button';
    button.addEventListener('click', () => download(result, button));
    const cell = el('td');
    cell.append(button);
    row.append(name, el('td', formatBytes(result.size)), hash,
      el('td', Array.isArray(result.sources) ? result.sources.length : ''), cell);
    return row;
  }));
}

async function download(result, button) {
  button.disabled = true;
  try {
    const reply = await command('download ' + Number(result.index));
    for (const line of reply.lines) {
      const started = /^(?:started|queued) (\d+): /.exec(line);
      if (started) transferRow(Number(started[1]), result.name, result.size);
      else addNotice(line);
    }
    if (reply.status !== 0) button.disabled = false;
  } catch (e) {
    addNotice('download: ' + e.message);
    button.disabled = false;
  }
}

function transferRow(id, name, size) {
  let row = state.transfers.get(id);
  if (row) return row;
  const box = document.getElementById('transfers');
  box.querySelector('.empty')?.remove();
  row = el('div', null, 'transfer active');
  row.dataset.id = String(id);
  const bar = el('progress');
  bar.max = Math.max(1, Number(size) || 1);
  bar.value = 0;
  row.append(el('div', '[' + id + '] ' + name, 'name'), bar, el('div', 'starting', 'detail'));
  box.prepend(row);
  state.transfers.set(id, row);
  return row;
}

function showProgress(data) {
  const row = transferRow(Number(data.id), data.name, data.size);
  const bar = row.querySelector('progress');
  bar.max = Math.max(1, Number(data.size) || 1);
  bar.value = Math.min(bar.max, Number(data.done) || 0);
  const percent = (100 * bar.value / bar.max).toFixed(1) + '%';
  const parts = [formatBytes(data.done) + ' of ' + formatBytes(data.size), percent];
  if (Number(data.bytes_per_s) > 0) parts.push(formatBytes(data.bytes_per_s) + '/s');
  if (data.eta_s !== null && data.eta_s !== undefined) parts.push(formatEta(Number(data.eta_s)));
  if (data.phase && data.phase !== 'fetching') parts.push(String(data.phase));
  row.querySelector('.detail').textContent = parts.filter(Boolean).join('  ');
}

function showFinished(data) {
  const row = transferRow(Number(data.id), data.name, data.size);
  const outcome = String(data.outcome || '');
  row.classList.remove('active');
  row.classList.add(['saved', 'failed', 'cancelled'].includes(outcome) ? outcome : 'ended');
  const bar = row.querySelector('progress');
  if (Number(data.size) > 0) bar.max = Number(data.size);
  if (outcome === 'saved') bar.value = bar.max;
  row.querySelector('.detail').textContent = data.line ? String(data.line) : outcome;
  refreshShared();
}

// --- Shared files and stats --------------------------------------------------
async function refreshLines(listId, line) {
  try {
    const result = await command(line);
    fillLines(document.getElementById(listId), result.lines);
  } catch (e) {
    fillLines(document.getElementById(listId), [line + ': ' + e.message]);
  }
}
const refreshShared = () => refreshLines('shared', 'shared');
const refreshStats = () => refreshLines('stats', 'stats');

// --- Events ------------------------------------------------------------------
function onEvent(message) {
  let event;
  try {
    event = JSON.parse(message.data);
  } catch (e) {
    return;
  }
  const data = event.data || {};
  switch (event.event) {
    case 'peer.connected':
    case 'peer.disconnected':
      addNotice(event.event + ' ' + String(data.id || '').slice(0, 16) + (data.reason ? ' (' + data.reason + ')' : ''));
      refreshPeers();
      break;
    case 'search.results': showResults(data); break;
    case 'download.progress': showProgress(data); break;
    case 'download.finished': showFinished(data); break;
    case 'notice': addNotice(String(data.text || '')); break;
    default: break;
  }
}

let retryMs = 500;
function connectEvents() {
  const status = document.getElementById('connection');
  const socket = new WebSocket('ws://' + location.host + '/api/events?token=' + encodeURIComponent(state.token));
  socket.onopen = () => {
    retryMs = 500;
    status.textContent = 'live';
    status.className = 'state live';
    refreshPeers();
  };
  socket.onmessage = onEvent;
  socket.onclose = () => {
    status.textContent = 'disconnected';
    status.className = 'state down';
    setTimeout(connectEvents, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  };
}

function main() {
  state.token = takeToken();
  if (!state.token) {
    document.getElementById('token-missing').hidden = false;
    document.getElementById('connection').textContent = 'no token';
    return;
  }
  document.getElementById('search-form').addEventListener('submit', search);
  document.getElementById('shared-refresh').addEventListener('click', refreshShared);
  document.getElementById('stats-refresh').addEventListener('click', refreshStats);
  connectEvents();
  refreshShared();
  refreshStats();
  setInterval(refreshStats, 5000);
  document.body.dataset.ready = 'yes';
}

main();
