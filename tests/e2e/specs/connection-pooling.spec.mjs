import { test, expect } from '@playwright/test';
import { act, compared, counts, measure, pastSecond, until, watchErrors } from './helpers.mjs';


test('from the catalogue: a pool reuses a few connections; the database restarted and killed by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Connection pooling' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Connection pooling');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await until(page, (c) => c.completed > 2000);
  expect(await measure(page, 'connections opened')).toBeLessThan(100);
  expect(await measure(page, 'connections refused by the database')).toBe(0);
  await page.screenshot({ path: info.outputPath('connection-pooling.png') });

  // Restart the database by its button: the pooled connections go stale and fail once each.
  await page.getByRole('button', { name: 'restart-db', exact: true }).click();
  await expect(page).toHaveURL(/\+restart-db/);
  await expect.poll(() => measure(page, 'queries failed on a stale connection'), { timeout: 20_000 }).toBeGreaterThan(5);

  // Kill it by click: queries fail.
  const before = await counts(page);
  await act(page, 'db', 'Kill');
  await until(page, (c) => c.failed > before.failed + 50);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('each "try this" step of connection pooling shows what its text claims', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=connection-pooling&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. No pool against a pool: a connection per query against a handful; the goal ticks on the pooled side.
  await step(0).click();
  await expect(page).toHaveURL(/vs=pooling%3Aon/);
  await expect.poll(async () => { const [none, pooled] = await compared(page, 'connections opened'); return none > 1000 && pooled < 100; }, { timeout: 30_000 }).toBe(true);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. A pool of two against four: waits for a connection, then hardly any.
  await step(1).click();
  await expect.poll(async () => { const [two, four] = await compared(page, 'wait for a connection, mean'); return two > 15 && four < 5; }, { timeout: 30_000 }).toBe(true);

  // 3. The database slows at 20 s: big pools are refused; pools that fit queue instead.
  await step(2).click();
  await pastSecond(page, 24);
  await expect.poll(async () => { const [big, fit] = await compared(page, 'connections refused by the database'); return big > 100 && fit === 0; }, { timeout: 30_000 }).toBe(true);
  await page.screenshot({ path: info.outputPath('connection-pooling-exhaust.png') });

  // 4. A restart at 20 s: stale connections fail once each without pre_ping, never with it.
  await step(3).click();
  await pastSecond(page, 23);
  await expect.poll(async () => { const [stale, pinged] = await compared(page, 'queries failed on a stale connection'); return stale >= 10 && pinged === 0; }, { timeout: 30_000 }).toBe(true);
  expect(errors).toEqual([]);
});
