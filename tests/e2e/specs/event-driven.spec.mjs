import { test, expect } from '@playwright/test';
import { act, compared, settles, measure, pastSecond, setUp, watchErrors } from './helpers.mjs';


test('from the catalogue: a consumer killed by click rebalances the group; at-least-once repeats and loses nothing', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Event-driven architecture' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Event-driven architecture');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 10);
  const rebalances = await measure(page, 'rebalances');
  expect(await measure(page, 'applied twice (billing)')).toBe(0);

  // Kill consumer-1 by click: the group deals its partitions again, and some events repeat.
  await act(page, 'consumer-1', 'Kill');
  await expect.poll(() => measure(page, 'rebalances'), { timeout: 20_000 }).toBeGreaterThan(rebalances);
  await expect.poll(() => measure(page, 'applied twice (billing)'), { timeout: 20_000 }).toBeGreaterThan(0);
  expect(await measure(page, 'lost (committed, never applied)')).toBe(0);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await page.screenshot({ path: info.outputPath('event-driven.png') });
  expect(errors).toEqual([]);
});

test('each "try this" step of event-driven architecture shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=event-driven&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. At-least-once against at-most-once when consumer-2 dies: repeats against losses.
  await setUp(page, step(0));
  await pastSecond(page, 22);
  await settles(page, 'applied twice (billing)', (least, most) => least > 20 && most < least);
  await settles(page, 'lost (committed, never applied)', (least, most) => least === 0 && most >= 0);

  // 2. Crashing consumers: duplicates at-least-once, none effectively-once; the goal ticks.
  await setUp(page, step(1));
  await pastSecond(page, 35);
  await settles(page, 'applied twice (billing)', (least, once) => least > 50 && once === 0);
  await expect(page.locator('.try-this li').nth(1).getByTestId('goal')).toContainText('✓ met');

  // 3. Eight consumers for six partitions: two idle, none with six.
  await setUp(page, step(2));
  await pastSecond(page, 5);
  await settles(page, 'consumers idle (no partition)', (eight, six) => eight === 2 && six === 0);

  // 4. No ordering key: events out of order; with one, none.
  await setUp(page, step(3));
  await pastSecond(page, 35);
  await settles(page, 'a user\'s events out of order', (none, key) => none > 0 && key === 0);
  await expect(page.locator('.try-this li').nth(3).getByTestId('goal')).toContainText('✓ met');
  expect(errors).toEqual([]);
});
