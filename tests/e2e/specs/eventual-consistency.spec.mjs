import { test, expect } from '@playwright/test';
import { act, comparedText, counts, measureText, numbers, until, watchErrors } from './helpers.mjs';

test('from the catalogue: replicas serve stale reads; a replica killed by click catches up after its revival', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Eventual consistency' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Eventual consistency');
  await page.getByRole('combobox', { name: 'Presets' }).selectOption('async-stale-reads');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1'); // 10x
  await until(page, (c) => c.completed > 5000);
  await expect.poll(async () => Number(await measureText(page, 'stale reads (share)')), { timeout: 20_000 }).toBeGreaterThan(0.01);
  expect(numbers(await measureText(page, 'write latency'))[0]).toBeLessThan(10);
  await page.screenshot({ path: info.outputPath('eventual-consistency-async.png') });

  // Kill replica-1 by click: its reads fail; revive it and it catches up.
  const before = await counts(page);
  await act(page, 'replica-1', 'Kill');
  await until(page, (c) => c.failed > before.failed + 50);
  await act(page, 'replica-1', 'Revive');
  await expect(page).toHaveURL(/revive\+replica-1/);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('each "try this" step of eventual consistency shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=eventual-consistency&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. Async: writes in a few ms, some reads stale.
  await step(0).click();
  await expect.poll(async () => Number(await measureText(page, 'stale reads (share)')), { timeout: 20_000 }).toBeGreaterThan(0.01);
  expect(numbers(await measureText(page, 'write latency'))[0]).toBeLessThan(10);

  // 2. Async against sync: stale reads to zero, writes slower.
  await step(1).click();
  await expect.poll(async () => {
    const [a, b] = await comparedText(page, 'stale reads (share)');
    const [wa, wb] = await comparedText(page, 'write latency');
    return Number(a) > 0.01 && Number(b) === 0 && numbers(wb)[0] > 50 && numbers(wa)[0] < 10;
  }, { timeout: 20_000 }).toBe(true);

  // 3. Read-your-writes: nobody misses their own write; others' profiles still stale.
  await step(2).click();
  await expect.poll(async () => {
    const [a, b] = await comparedText(page, 'users who missed their own write');
    const [, staleB] = await comparedText(page, 'stale reads (share)');
    return Number(a) > 10 && Number(b) === 0 && Number(staleB) > 0.005;
  }, { timeout: 20_000 }).toBe(true);

  // 4. The partition: replica-2's backlog climbs, then the invariant holds after the heal.
  await step(3).click();
  await expect.poll(async () => Number(await measureText(page, 'slowest write to reach every replica')), { timeout: 30_000 }).toBeGreaterThan(15_000);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});
