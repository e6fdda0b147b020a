import { test, expect } from '@playwright/test';
import { act, compared, settles, counts, measure, pastSecond, setUp, until, watchErrors } from './helpers.mjs';


test('from the catalogue: a coordinator crash blocks the participants, holding their locks; a participant killed by click aborts, atomically', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Two-phase commit' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Two-phase commit');
  await page.getByRole('combobox', { name: 'Presets' }).selectOption('coordinator-crash');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 26);
  // Five seconds into the coordinator's absence, the participants still wait in doubt.
  expect(await measure(page, 'longest a participant waited in doubt')).toBeGreaterThan(5);
  expect(await measure(page, 'held over a timeout, in doubt')).toBeGreaterThan(0);
  await page.screenshot({ path: info.outputPath('two-phase-commit-blocked.png') });
  await pastSecond(page, 31);
  expect(await measure(page, 'longest a participant waited in doubt')).toBeGreaterThan(9.5);

  // Kill a participant by click: its prepares bounce, and those transactions abort everywhere.
  const aborted = await measure(page, 'aborted');
  await act(page, 'participant-2', 'Kill');
  await expect.poll(() => measure(page, 'aborted'), { timeout: 20_000 }).toBeGreaterThan(aborted + 200);
  expect(await measure(page, 'atomicity violations')).toBe(0);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('each "try this" step of two-phase commit shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=two-phase-commit&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. Two participants against six: about 0.95² against 0.95⁶ commit.
  await setUp(page, step(0));
  await pastSecond(page, 20);
  await settles(page, 'commit ratio', (two, six) => Math.abs(two - 0.9025) < 0.03 && Math.abs(six - 0.735) < 0.04);

  // 2. A coordinator crash after prepare against none: blocked for the recovery time, or not at all.
  await setUp(page, step(1));
  await pastSecond(page, 31);
  await settles(page, 'longest a participant waited in doubt', (crash, none) => crash > 9.5 && none < 1);

  // 3. A crash mid-commit: finished on recovery, atomically; its goal ticks.
  await setUp(page, step(2));
  await pastSecond(page, 31);
  expect(await measure(page, 'longest a participant waited in doubt')).toBeGreaterThan(9.5);
  expect(await measure(page, 'atomicity violations')).toBe(0);
  await expect(page.locator('.try-this li').nth(2).getByTestId('goal')).toContainText('✓ met');

  // 4. Deciding alone against waiting: violations only on the heuristic side, and the checker says so.
  await setUp(page, step(3));
  await pastSecond(page, 32);
  await settles(page, 'atomicity violations', (alone, wait) => alone > 0 && wait === 0);
  await settles(page, 'decided alone (heuristic)', (alone, wait) => alone > 0 && wait === 0);
  await expect(page.locator('.try-this li').nth(3).getByTestId('goal')).toContainText('✓ met');
  expect(errors).toEqual([]);
});
