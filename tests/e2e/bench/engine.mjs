// The engine benchmark in headless Chromium: serves dist/, opens ?bench=N, prints the JSON
// the page computes. Run by `cargo xtask bench`; not a test (it asserts nothing).
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const requests = process.argv[2] || '1000000';
const port = '4174';
const server = spawn('node', [join(here, '..', 'serve.mjs')], { env: { ...process.env, PORT: port }, stdio: 'ignore' });
try {
  await new Promise((r) => setTimeout(r, 500));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/sub/clusterlab/?bench=${requests}`, { timeout: 120_000 });
  const text = await page.locator('#bench').textContent({ timeout: 120_000 });
  console.log(JSON.stringify({ engine: JSON.parse(text), chromium: browser.version() }));
  await browser.close();
} finally {
  server.kill();
}
