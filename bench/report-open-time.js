// Open an HTML file in headless Chromium over the DevTools protocol (127.0.0.1 only) and print
// how long it takes to load: wall time from Page.navigate to the load event, the page's own
// navigationStart -> loadEventEnd, first contentful paint, and a layout-complete mark taken
// after two animation frames following load. Usage: node --experimental-websocket bench/report-open-time.js FILE [RUNS]
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const file = path.resolve(process.argv[2]);
const runs = Number(process.argv[3] || 3);
const port = 9300 + Math.floor(Math.random() * 500);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-'));
const chrome = spawn('/usr/bin/chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync',
  '--disable-background-networking', '--disable-component-update',
  `--remote-debugging-port=${port}`, '--remote-debugging-address=127.0.0.1',
  `--user-data-dir=${profile}`, 'about:blank'], { stdio: 'ignore' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function target() {
  for (let i = 0; i < 100; i++) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      const page = list.find((t) => t.type === 'page');
      if (page) return page.webSocketDebuggerUrl;
    } catch (e) { /* not up yet */ }
    await sleep(100);
  }
  throw new Error('chromium did not start');
}
(async () => {
  const ws = new WebSocket(await target());
  await new Promise((r) => ws.addEventListener('open', r));
  let id = 0; const pending = new Map(); const waiters = []; const errors = [];
  ws.addEventListener('message', (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
    if (msg.method === 'Runtime.exceptionThrown') errors.push(msg.params.exceptionDetails.text);
    if (msg.method === 'Runtime.consoleAPICalled') errors.push('console.' + msg.params.type);
    for (const w of waiters.splice(0)) { if (w.method === msg.method) w.resolve(msg); else waiters.push(w); }
  });
  const send = (method, params = {}) => new Promise((resolve) => {
    const n = ++id; pending.set(n, resolve); ws.send(JSON.stringify({ id: n, method, params }));
  });
  const once = (method) => new Promise((resolve) => waiters.push({ method, resolve }));
  await send('Page.enable'); await send('Runtime.enable'); await send('Performance.enable');
  const busy = async () => {
    const m = (await send('Performance.getMetrics')).result.metrics;
    return Object.fromEntries(m.map((x) => [x.name, x.value]));
  };
  for (let run = 1; run <= runs; run++) {
    const blank = once('Page.loadEventFired');
    await send('Page.navigate', { url: 'about:blank' }); await blank; await sleep(200);
    const loaded = once('Page.loadEventFired');
    const before = await busy();
    const t0 = process.hrtime.bigint();
    await send('Page.navigate', { url: 'file://' + file });
    await loaded;
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const r = await send('Runtime.evaluate', { awaitPromise: true, returnByValue: true, expression: `
      new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(() => {
        const t = performance.timing; const fcp = performance.getEntriesByType('paint')
          .find((p) => p.name === 'first-contentful-paint');
        res({ load: t.loadEventEnd - t.navigationStart, dcl: t.domContentLoadedEventEnd - t.navigationStart,
              fcp: fcp ? Math.round(fcp.startTime) : null, settled: Math.round(performance.now()),
              rows: document.querySelectorAll('tr.finding-row').length,
              chains: document.querySelectorAll('svg.chain').length,
              timelines: document.querySelectorAll('svg.timeline').length });
      })))` });
    const v = r.result.result.value;
    const after = await busy();
    const ms = (k) => Math.round((after[k] - before[k]) * 1000);
    console.log(`run ${run}: navigate->load event ${wall.toFixed(0)} ms; navigationStart->loadEventEnd ${v.load} ms; ` +
      `DOMContentLoaded ${v.dcl} ms; first contentful paint ${v.fcp} ms; settled after 2 frames ${v.settled} ms; ` +
      `finding rows ${v.rows}, chain svgs ${v.chains}, timeline svgs ${v.timelines}; ` +
      `main-thread busy ${ms('TaskDuration')} ms (layout ${ms('LayoutDuration')}, style ${ms('RecalcStyleDuration')}, script ${ms('ScriptDuration')})`);
  }
  console.log(`console messages / page errors: ${errors.length}${errors.length ? ' ' + errors.join(' | ') : ''}`);
  ws.close(); chrome.kill();
  setTimeout(() => { try { fs.rmSync(profile, { recursive: true, force: true }); } catch (e) {} }, 500);
})().catch((e) => { console.error(e); chrome.kill(); process.exit(1); });
