import { test, expect } from '@playwright/test';
import { counts, watchErrors } from './helpers.mjs';

test('Run 1M runs a million transactions of the setup in slices, with progress, then shows that run', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&policy=random&seed=3');
  await page.getByRole('button', { name: 'Run 1M' }).click();
  const progress = page.getByTestId('million');
  // Under way: progress, time left, and the stage says it draws a sample.
  await expect(progress).toContainText(/of 1000000 transactions/);
  await expect(progress).toContainText(/the stage draws 1 request in \d+/);
  // The page answers while it runs: the shortcut list opens at once.
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  // At the end the run on show is the million: its counts, measures and report.
  await expect(page.locator('.notices')).toContainText(/Ran 1000000 transactions of this setup in [\d.]+ s/, { timeout: 60_000 });
  await expect(progress).toHaveCount(0);
  const c = await counts(page);
  expect(c.sent).toBe(1000000);
  expect(c.completed + c.rejected + c.failed + c.timedOut + c.inFlight).toBe(c.sent);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Report', exact: true }).click()]);
  expect(dl.suggestedFilename()).toMatch(/seed3/);
  expect(errors).toEqual([]);
});

test('cancelling Run 1M stops at once and keeps what was computed', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=cap');
  await page.getByRole('button', { name: 'Run 1M' }).click();
  const progress = page.getByTestId('million');
  await expect.poll(async () => Number(((await progress.textContent()).match(/^(\d+) of/) || [])[1]), { timeout: 20_000 }).toBeGreaterThan(20000);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(progress).toHaveCount(0);
  await expect(page.locator('.notices')).toContainText(/Stopped after \d+ transactions/);
  const c = await counts(page);
  expect(c.sent).toBeGreaterThan(20000);
  expect(c.sent).toBeLessThan(1000000);
  // Reset plays live again from 0.
  await page.getByRole('button', { name: 'Reset' }).click();
  await expect.poll(async () => (await counts(page)).sent, { timeout: 10_000 }).toBeLessThan(c.sent);
  expect(errors).toEqual([]);
});
