import { test, expect } from '@playwright/test';
import { act, compared, counts, measure, until, watchErrors } from './helpers.mjs';

test('from the catalogue: a flushed cache stampedes the database; flush and faults by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Caching' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Caching');
  await page.getByRole('combobox', { name: 'Presets' }).selectOption('cold-cache-stampede');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  // It starts cold; warm, the database idles; the flush at 20 s sends every read to it and its queue explodes.
  await expect.poll(async () => Number(((await page.getByTestId('counts').textContent()).match(/t = ([\d.]+)s/) || [])[1]), { timeout: 30_000 }).toBeGreaterThan(22);
  expect(await measure(page, 'longest database queue')).toBeGreaterThan(300);
  expect(await measure(page, 'hit ratio')).toBeGreaterThan(0.5);
  await page.screenshot({ path: info.outputPath('caching-stampede.png') });

  // Flush again by its button: the schedule and the URL carry it.
  await page.getByRole('button', { name: 'flush', exact: true }).click();
  await expect(page).toHaveURL(/\+flush/);

  // Kill the database by click: reads that miss fail.
  const before = await counts(page);
  await act(page, 'db', 'Kill');
  await until(page, (c) => c.failed > before.failed + 50);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('each "try this" step of caching shows what its text claims', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=caching&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. The flush at 20 s: the database queue explodes.
  await step(0).click();
  await expect.poll(() => measure(page, 'longest database queue'), { timeout: 30_000 }).toBeGreaterThan(300);

  // 2. Without single-flight against with it: the database's longest queue.
  await step(1).click();
  await expect(page).toHaveURL(/vs=coalesce%3Aon/);
  await expect.poll(async () => { const [a, b] = await compared(page, 'longest database queue'); return a > 300 && a > 2 * b; }, { timeout: 40_000 }).toBe(true);

  // 3. Forgotten invalidation against invalidation: stale reads only on the forgetful side.
  await step(2).click();
  await expect.poll(async () => { const [a, b] = await compared(page, 'stale reads'); return a > 100 && b === 0; }, { timeout: 30_000 }).toBe(true);

  // 4. LRU against random eviction: LRU hits more.
  await step(3).click();
  await expect(page).toHaveURL(/vs=eviction%3Arandom/);
  await page.waitForTimeout(3000);
  await expect.poll(async () => { const [lru, random] = await compared(page, 'hit ratio'); return lru > random + 0.02; }, { timeout: 20_000 }).toBe(true);
  await page.screenshot({ path: info.outputPath('caching-lru-vs-random.png') });
  expect(errors).toEqual([]);
});
