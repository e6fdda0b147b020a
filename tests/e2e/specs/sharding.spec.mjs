import { test, expect } from '@playwright/test';
import { act, compared, counts, measure, until, virtualTime, watchErrors } from './helpers.mjs';

test('from the catalogue: timestamps make one hot shard; a shard added, one killed and one removed by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=4');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Sharding' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sharding');
  await page.getByRole('combobox', { name: 'Presets' }).selectOption('hot-shard-sequential-range');
  // Every timestamp lands on shard-1: it refuses while the others idle.
  await until(page, (c) => c.rejected > 200);
  await expect.poll(() => measure(page, 'busiest shard / mean'), { timeout: 20_000 }).toBeGreaterThan(3.5);
  await expect(page.getByTestId('measures').locator('tr', { hasText: 'queries per shard' }).locator('td')).toHaveText(/^\d+ · 0 · 0 · 0$/);
  await page.screenshot({ path: info.outputPath('sharding-hot-shard.png') });

  // A fifth shard joins: range re-slices the key space and half the keys move.
  await page.getByRole('button', { name: 'add-shard', exact: true }).click();
  await expect(page).toHaveURL(/add-shard/);
  await expect(page.locator('.node-strip').getByRole('button', { name: 'shard-5', exact: true })).toBeVisible();
  await expect.poll(() => measure(page, 'keys moved by the last resize'), { timeout: 20_000 }).toBeCloseTo(0.5, 2);

  // Kill shard-2 by click: the queries for its keys fail.
  const before = await counts(page);
  await page.locator('#knob-key_dist').selectOption('uniform');
  await act(page, 'shard-2', 'Kill');
  await until(page, (c) => c.failed > before.failed + 100);

  // Remove shard-3 from its menu: its keys go to the others.
  await act(page, 'shard-3', 'remove-shard');
  await expect(page).toHaveURL(/remove-shard\+shard-3/);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('each "try this" step of sharding shows what its text claims', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=sharding&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. Sequential keys on range sharding: busiest/mean reaches 4.
  await step(0).click();
  await expect.poll(() => measure(page, 'busiest shard / mean'), { timeout: 20_000 }).toBeGreaterThan(3.9);

  // 2. The same timestamps, range against a hash ring: about 4 against about 1.
  await step(1).click();
  await expect(page).toHaveURL(/vs=strategy%3Aconsistent-hash/);
  await expect.poll(async () => { const [a, b] = await compared(page, 'busiest shard / mean'); return a > 3.9 && b < 1.3; }, { timeout: 20_000 }).toBe(true);

  // 3. A fifth shard under modulo at 20 s: 0.8 of the keys move.
  await step(2).click();
  await expect(page.getByTestId('measures')).toBeVisible();
  await expect.poll(() => measure(page, 'keys moved by the last resize'), { timeout: 30_000 }).toBeGreaterThan(0);
  expect(await virtualTime(page)).toBeGreaterThan(20);
  expect(await measure(page, 'keys moved by the last resize')).toBeCloseTo(0.8, 2);

  // 4. Modulo against a ring: 0.8 against about 0.2.
  await step(3).click();
  await expect.poll(async () => (await compared(page, 'keys moved by the last resize'))[1], { timeout: 30_000 }).toBeGreaterThan(0);
  const [modulo, ring] = await compared(page, 'keys moved by the last resize');
  expect(modulo).toBeCloseTo(0.8, 2);
  expect(ring).toBeGreaterThan(0.12);
  expect(ring).toBeLessThan(0.28);

  // 5. One hundred points per shard against one: the largest key share over the mean.
  await step(4).click();
  await expect.poll(async () => { const [many, one] = await compared(page, 'key share, largest / mean'); return many < 1.25 && one > 1.4; }, { timeout: 20_000 }).toBe(true);
  await page.screenshot({ path: info.outputPath('sharding-vnodes-compare.png') });
  expect(errors).toEqual([]);
});
