// Page benchmarks in headless Chromium against dist/: stage frame time with about 10,000
// requests in flight, time to interactive, "Run 1M", jumps on the timeline and the space-time
// diagram's redraw on every scene. Prints JSON; asserts nothing (cargo xtask
// bench writes the figures to BENCHMARKS.md).
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const port = '4176';
const base = `http://127.0.0.1:${port}/sub/clusterlab/`;
const server = spawn('node', [join(here, '..', 'serve.mjs')], { env: { ...process.env, PORT: port }, stdio: 'ignore' });
// The preset of each scene with the most on the stage.
const BUSIEST = [
  ['load-balancing', 'slow-server-round-robin'],
  ['circuit-breaker', 'hung-dependency-no-breaker'],
  ['sharding', 'hot-shard-sequential-range'],
  ['caching', 'cold-cache-stampede'],
  ['eventual-consistency', 'partitioned-replica'],
  ['cap', 'ap-partition-lww'],
  ['partitioning', 'list-by-region-skewed'],
  ['rate-limiting', 'no-limit'],
  ['connection-pooling', 'pools-exhaust-db'],
  ['idempotency', 'no-keys'],
  ['throttling', 'spike-no-throttling'],
  ['monitoring', 'slow-scrapes'],
  ['scaling', 'database-ceiling'],
  ['two-phase-commit', 'all-or-nothing'],
  ['saga', 'orchestrated'],
  ['async-processing', 'smtp-outage'],
  ['microservices', 'fan-out-tail'],
  ['event-driven', 'consumer-crashes'],
  ['websockets', 'gateway-dies-immediate'],
  ['sse', 'proxy-reload-last-event-id'],
];
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
try {
  await new Promise((r) => setTimeout(r, 500));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
  const result = { chromium: browser.version() };

  // Time to interactive, cold: a fresh context per try, first stage frame after navigation.
  const tti = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}?p=load-balancing`);
    const ready = await page.locator('canvas.stage[data-ready-ms]').getAttribute('data-ready-ms', { timeout: 30_000 });
    tti.push(Number(ready));
    await context.close();
  }
  tti.sort((a, b) => a - b);
  result.tti_ms = { median: tti[2], max: tti[4], runs: tti };

  // Frame time: our work per frame (simulate + draw), p95 over the last 240 frames.
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}?p=load-balancing&net_latency=const:1s&arrival_rate=2500&timeout=60s`);
  await page.waitForTimeout(12_000);
  const stage = page.locator('canvas.stage');
  result.frames = {
    scenario: '?p=load-balancing&net_latency=const:1s&arrival_rate=2500&timeout=60s',
    p95_ms: Number(await stage.getAttribute('data-frame-p95')),
    requests_in_flight: Number(await stage.getAttribute('data-in-flight')),
    dots_drawn: Number(await stage.getAttribute('data-flights')),
    // How often the browser gave us a frame, measured in the page over 3 s.
    raf_interval_p95_ms: await page.evaluate(() => new Promise((done) => {
      const gaps = [];
      let last = performance.now();
      const end = last + 3000;
      const step = (t) => { gaps.push(t - last); last = t; if (t < end) requestAnimationFrame(step); else { gaps.sort((a, b) => a - b); done(gaps[Math.floor(gaps.length * 0.95)]); } };
      requestAnimationFrame(step);
    })),
  };
  // Each scene on its busiest preset, 1x speed: our work per frame, p95 over the last 240 frames.
  result.scenes = [];
  for (const [scene, preset] of BUSIEST) {
    const query = `?p=${scene}&preset=${preset}`;
    await page.goto(`${base}${query}`);
    await page.waitForTimeout(8_000);
    result.scenes.push({
      scene,
      query,
      p95_ms: Number(await stage.getAttribute('data-frame-p95')),
      dots_drawn: Number(await stage.getAttribute('data-flights')),
    });
  }
  // "Run 1M" on each scene's defaults: wall time to a million transactions in frame-sized
  // slices, our longest frame meanwhile, and the longest gap between the browser's frames.
  result.million = [];
  for (const [scene] of BUSIEST) {
    await page.goto(`${base}?p=${scene}`);
    await page.waitForTimeout(500);
    const gaps = page.evaluate(() => new Promise((done) => {
      let last = performance.now();
      let worst = 0;
      const step = (t) => {
        worst = Math.max(worst, t - last);
        last = t;
        if (document.querySelector('[data-testid="million"]') || performance.now() - start < 500) requestAnimationFrame(step); else done(worst);
      };
      const start = performance.now();
      requestAnimationFrame(step);
    }));
    await page.getByRole('button', { name: 'Run 1M' }).click();
    await page.locator('canvas.stage[data-million-ms]').waitFor({ timeout: 120_000 });
    result.million.push({
      scene,
      wall_ms: Number(await stage.getAttribute('data-million-ms')),
      our_max_frame_ms: Number(await stage.getAttribute('data-million-max-frame-ms')),
      raf_max_gap_ms: Math.round(await gaps * 10) / 10,
    });
  }
  // The timeline on each scene's defaults: a link to 60 s (a jump on from 0 s), then a jump
  // back (the run replayed from the run parked nearest before); the page times each, from the ask to
  // the stage drawn at the instant.
  result.seek = [];
  for (const [scene] of BUSIEST) {
    await page.goto(`${base}?p=${scene}&t=60s`);
    await page.getByTestId('playhead').filter({ hasText: '60.00 s' }).waitFor({ timeout: 60_000 });
    const on = Number(await stage.getAttribute('data-seek-ms'));
    const back = [];
    for (const t of ['59.9', '59.5', '59']) {
      // Once the runs parked along the first minute are built (a few milliseconds a frame).
      await page.locator('canvas.stage[data-parked="4"]').waitFor({ timeout: 60_000 });
      await page.getByRole('slider', { name: /Virtual time/ }).fill(t);
      await page.getByTestId('playhead').filter({ hasText: `${Number(t).toFixed(2)} s` }).waitFor({ timeout: 60_000 });
      back.push(Number(await stage.getAttribute('data-seek-ms')));
    }
    back.sort((x, y) => x - y);
    result.seek.push({ scene, on_ms: on, back_ms: back[1], back_max_ms: back[2] });
  }
  // The space-time diagram, open on each scene's busiest preset with a 1 s window (sampled
  // to 400 messages), redrawn four times a second as the run plays: the longest redraw
  // (building the SVG and putting it in the page) over 3 s.
  result.diagram = [];
  for (const [scene, preset] of BUSIEST) {
    await page.goto(`${base}?p=${scene}&preset=${preset}`);
    await page.getByText('Space-time diagram').click();
    await page.getByRole('combobox', { name: /Window/ }).selectOption('1000000');
    const diagram = page.getByTestId('diagram');
    let worst = 0;
    for (let i = 0; i < 12; i++) {
      await page.waitForTimeout(250);
      worst = Math.max(worst, Number(await diagram.getAttribute('data-ms')));
    }
    result.diagram.push({ scene, redraw_max_ms: worst, messages: (await diagram.locator('g.msg').count()) });
  }
  console.log(JSON.stringify(result));
  await browser.close();
} finally {
  server.kill();
}
