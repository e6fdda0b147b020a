import { test, expect } from '@playwright/test';
import { act, compared, settles, measure, pastSecond, setUp, watchErrors } from './helpers.mjs';


test('from the catalogue: failed steps are undone in reverse, step by step in the table; a service killed by click leaves no saga partial', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Saga' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Saga');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 10);
  expect(await measure(page, 'compensated (all undone)')).toBeGreaterThan(50);
  // Every cancelled saga in the table: undone up to the step that failed, nothing after it.
  const table = page.getByTestId('side-by-side');
  await expect(table.locator('tbody tr')).toHaveCount(6);
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  for (const row of rows) {
    const [steps, ended] = [row.slice(0, 4), row[4]];
    if (ended === 'booked') expect(steps).toEqual(['✓', '✓', '✓', '✓']);
    else {
      const failed = steps.findIndex((s) => s === '✗');
      expect(failed).toBeGreaterThanOrEqual(0);
      expect(steps.slice(0, failed).every((s) => s === '↺')).toBe(true);
      expect(steps.slice(failed + 1).every((s) => s === '—')).toBe(true);
    }
  }
  await page.screenshot({ path: info.outputPath('saga.png') });

  // Kill the car service by click: its steps fail at once, the sagas before it are undone.
  const before = await measure(page, 'compensated (all undone)');
  await act(page, 'car', 'Kill');
  await expect.poll(() => measure(page, 'compensated (all undone)'), { timeout: 20_000 }).toBeGreaterThan(before + 100);
  expect(await measure(page, 'left partial (partial_left)')).toBe(0);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('each "try this" step of saga shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=saga&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. No retry against one retry per step: about 0.9⁴ against 0.99⁴ booked in full; the goal ticks on the retried side.
  await setUp(page, step(0));
  await pastSecond(page, 30);
  await settles(page, 'all done', (none, one) => none > 0 && one > 0);
  const [a, b] = await compared(page, 'all done');
  const [ca, cb] = await compared(page, 'compensated (all undone)');
  expect(Math.abs(a / (a + ca) - 0.656)).toBeLessThan(0.06);
  expect(b / (b + cb)).toBeGreaterThan(0.92);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. The orchestrator's crash: sagas resumed from its log, none left partial.
  await setUp(page, step(1));
  await pastSecond(page, 27);
  expect(await measure(page, 'sagas resumed after a crash')).toBeGreaterThan(0);
  expect(await measure(page, 'left partial (partial_left)')).toBe(0);

  // 3. A hung hotel: choreographed sagas stranded, orchestrated ones cancelled; the goal ticks on the orchestrated side.
  await setUp(page, step(2));
  await pastSecond(page, 41);
  await settles(page, 'sagas with no outcome after 10 s', (chor, orch) => chor > 200 && orch === 0);
  await expect(page.locator('.try-this li').nth(2).getByTestId('goal')).toContainText('✓ met');

  // 4. Choreography against orchestration: the same share booked in full.
  await setUp(page, step(3));
  await pastSecond(page, 30);
  await settles(page, 'all done', (chor, orch) => chor > 0 && orch > 0 && Math.abs(chor - orch) / orch < 0.15);
  expect(errors).toEqual([]);
});
