import { test, expect } from '@playwright/test';
import { act, compared, counts, measure, pastSecond, until, watchErrors } from './helpers.mjs';


test('from the catalogue: a spike collapses goodput without throttling; the host killed by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Throttling' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Throttling');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 31);
  expect(await measure(page, 'goodput during the spike')).toBeLessThan(400);
  expect(await measure(page, 'served after the client gave up')).toBeGreaterThan(1000);
  await page.screenshot({ path: info.outputPath('throttling-collapse.png') });

  // Kill the host by click: requests fail at once.
  const before = await counts(page);
  await act(page, 'host', 'Kill');
  await until(page, (c) => c.failed > before.failed + 200);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('each "try this" step of throttling shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=throttling&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });
  const after = async (s, label, pred) => {
    await pastSecond(page, s);
    await expect.poll(async () => pred(...(await compared(page, label))), { timeout: 30_000 }).toBe(true);
  };

  // 1. No throttling against load shedding: goodput collapses, or holds at capacity; the goal ticks on the shedding side.
  await step(0).click();
  await after(31, 'goodput during the spike', (none, shed) => none < 400 && shed > 750);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. Adaptive delay against none.
  await step(1).click();
  await after(31, 'goodput during the spike', (adaptive, none) => adaptive > 750 && none < 400);

  // 3. Little memory: a crash without throttling, none with shedding.
  await step(2).click();
  await after(26, 'crashes (out of memory)', (none, shed) => none === 1 && shed === 0);
  expect(errors).toEqual([]);
});
