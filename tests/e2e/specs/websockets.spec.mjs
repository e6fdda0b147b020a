import { test, expect } from '@playwright/test';
import { act, compared, comparedText, measure, numbers, pastSecond, setUp, settles, watchErrors } from './helpers.mjs';

test('from the catalogue: a gateway killed by click drops its clients, who back off and all come back', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'WebSockets' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('WebSockets');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 5);
  expect(await measure(page, 'clients online now')).toBe(1000);
  expect(await measure(page, 'open connections')).toBeGreaterThanOrEqual(1000);

  // Kill gateway-2 by click: its third of the clients drop, reconnect with backoff and jitter, and are all back.
  await act(page, 'gateway-2', 'Kill');
  await expect.poll(() => measure(page, 'clients online now'), { timeout: 20_000 }).toBeLessThan(1000);
  await expect.poll(() => measure(page, 'clients online now'), { timeout: 40_000 }).toBe(1000);
  expect(await measure(page, 'connection attempts, peak per second')).toBeLessThan(1000);
  expect(await measure(page, 'connections refused')).toBe(0);
  expect(await measure(page, 'leaked connections (client gone, silent past 3 heartbeats)')).toBe(0);
  await page.screenshot({ path: info.outputPath('websockets.png') });
  expect(errors).toEqual([]);
});

test('each "try this" step of WebSockets shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=websockets&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. Gateway-1 dies at 20 s: immediate reconnects make thousands of attempts a second, mostly refused; backoff keeps it under a thousand, none refused.
  await setUp(page, step(0));
  await pastSecond(page, 30);
  await settles(page, 'connection attempts, peak per second', (now, backoff) => now > 5000 && backoff < 1000);
  const [refusedNow, refusedBackoff] = await compared(page, 'connections refused');
  expect(refusedNow).toBeGreaterThan(1000);
  expect(refusedBackoff).toBe(0);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. No heartbeats: connections of vanished clients pile up; with a 10 s heartbeat none outlives detection.
  await setUp(page, step(1));
  await pastSecond(page, 30);
  await settles(page, 'leaked connections', (off, on) => off > 20 && on === 0);
  await settles(page, 'frames written to dead connections', (off, on) => off > on);

  // 3. Polling every 2 s: hundreds of requests a second and latency near a second; WebSockets: milliseconds.
  await setUp(page, step(2));
  await pastSecond(page, 20);
  await settles(page, 'requests per second at the gateways', (polling, ws) => polling > 600 && ws < 300);
  await expect.poll(async () => {
    const [polling, ws] = (await comparedText(page, 'message latency p50')).map(numbers);
    return polling[0] > 700 && ws[1] < 20;
  }, { timeout: 30_000 }).toBe(true);
  await expect(page.locator('.try-this li').nth(2).getByTestId('goal')).toContainText('✓ met');
  expect(errors).toEqual([]);
});
