import { test, expect } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { watchErrors } from './helpers.mjs';

test('the space-time diagram draws the messages up to the timeline\'s instant, follows a request across the nodes, and downloads as SVG', async ({ page }) => {
  const errors = watchErrors(page);
  // Load balancing at 300 requests/s, at 12 s, a server killed at 10 s.
  await page.goto('./?p=load-balancing&arrival_rate=300&fault=10s+kill+server-2&t=12s');
  await expect(page.getByTestId('playhead')).toHaveText('12.00 s', { timeout: 20_000 });
  await page.getByText('Space-time diagram').click();
  const diagram = page.getByTestId('diagram');
  const svg = diagram.locator('svg');
  await expect(svg).toBeVisible();
  await expect(svg).toContainText('Load balancing: 11900ms to 12s');
  // One line per node: the client, the balancer and four servers.
  for (const name of ['client', 'lb', 'server-1', 'server-4']) await expect(svg.locator('text', { hasText: name }).first()).toBeVisible();
  const messages = svg.locator('g.msg');
  const count = await messages.count();
  expect(count).toBeGreaterThan(20);
  await expect(svg).toContainText(`; ${count} messages`);

  // A request's path: its messages stand out, the rest fade.
  const req = await messages.first().getAttribute('data-req');
  const path = svg.locator(`g.msg[data-req="${req}"]`);
  const hops = await path.count();
  expect(hops).toBeGreaterThan(1);
  await messages.first().dispatchEvent('click');
  await expect(svg.locator('g.msg.hl')).toHaveCount(hops);
  await expect(svg.locator(`g.msg.hl[data-req="${req}"]`)).toHaveCount(hops);
  // Clicked again: nothing stands out.
  await svg.locator('g.msg.hl').first().dispatchEvent('click');
  await expect(svg.locator('g.msg.hl')).toHaveCount(0);

  // A wider window: replayed, and sampled by request past 400 messages, saying so.
  await page.getByRole('combobox', { name: /Window/ }).selectOption('1000000');
  await expect(svg).toContainText('11s to 12s', { timeout: 20_000 });
  await expect(svg).toContainText(/one request in \d+ shown/);
  expect(await svg.locator('g.msg').count()).toBeLessThanOrEqual(400);

  // The download is the same picture, a standalone SVG document.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'SVG', exact: true }).click()]);
  expect(dl.suggestedFilename()).toBe('clusterlab-load-balancing-seed1-12.0s.svg');
  const text = (await readFile(await dl.path())).toString();
  expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(text.match(/class="msg/g).length).toBe(await svg.locator('g.msg').count());

  // Playing, it follows the run.
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await expect.poll(async () => (await svg.textContent()).match(/: (\S+) to (\S+);/)?.[2], { timeout: 20_000 }).not.toBe('12s');
  expect(errors).toEqual([]);
});
