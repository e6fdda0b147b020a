import { test, expect } from '@playwright/test';
import { act, counts, measure, pastSecond, until, watchErrors } from './helpers.mjs';


test('from the catalogue: the autoscaler adds nodes as the ramp climbs; the USL table; a node killed by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Scaling' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Scaling');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 70);
  expect(await measure(page, 'most nodes serving')).toBeGreaterThanOrEqual(4);
  const table = page.getByTestId('side-by-side');
  await expect(table.locator('thead th[scope=col]')).toHaveText(['1', '2', '4', '8', '16', '32', '64']);
  await page.screenshot({ path: info.outputPath('scaling-autoscale.png') });

  // Kill a node by click: the router goes around it.
  const before = await counts(page);
  await act(page, 'app-1', 'Kill');
  await until(page, (c) => c.completed > before.completed + 5000);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('each "try this" step of scaling shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=scaling&speed=50');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. Vertical: capped near the USL's 1300 a second, refusing the rest.
  await step(0).click();
  await pastSecond(page, 100);
  const peak = await measure(page, 'most completed in a second');
  expect(peak).toBeGreaterThan(1000);
  expect(peak).toBeLessThan(1800); // a second sampled in short intervals runs noisy

  // 2. The autoscaler follows the ramp; the goal ticks.
  await step(1).click();
  await pastSecond(page, 60);
  await expect(page.locator('.try-this li').nth(1).getByTestId('goal')).toContainText('✓ met');

  // 3. Past the database: all 16 nodes, and throughput stays near 3200.
  await step(2).click();
  await expect.poll(() => measure(page, 'most nodes serving'), { timeout: 60_000 }).toBe(16);
  expect(await measure(page, 'most completed in a second')).toBeLessThan(3600);
  expect(errors).toEqual([]);
});
