import { test, expect } from '@playwright/test';
import { counts, until, watchErrors } from './helpers.mjs';

/** Virtual seconds shown in the stats line. */
async function virtualTime(page) {
  const text = await page.getByTestId('counts').textContent();
  return Number((text.match(/t = ([\d.]+)s/) || [])[1] ?? NaN);
}

test('a live knob changes the run as it plays and joins the schedule; a reload replays it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&arrival_rate=500&speed=10');
  await until(page, (c) => c.sent > 2_000);
  const before = await counts(page);
  const t0 = await virtualTime(page);
  await page.locator('#knob-arrival_rate').fill('4000');
  await page.locator('#knob-arrival_rate').press('Enter');
  await expect(page).toHaveURL(/fault=\d+us\+set\+arrival_rate%3D4000/);
  // No restart: virtual time and the counts carry on from where they were.
  await expect.poll(() => virtualTime(page)).toBeGreaterThan(t0 + 2);
  const after = await counts(page);
  expect(after.sent).toBeGreaterThan(before.sent);
  await expect(page.locator('.notices')).toHaveCount(0);
  await expect(page.locator('#knob-arrival_rate')).toHaveValue('4000');
  // The schedule entry replays: after a reload the knob reads the scheduled value.
  await page.reload();
  await expect(page.locator('#knob-arrival_rate')).toHaveValue('4000');
  expect(errors).toEqual([]);
});

test('a schedule entry the scene cannot take is named in a notice and left out', async ({ page }) => {
  await page.goto('./?p=load-balancing&fault=10s+set+servers%3D8&fault=12s+add-shard&policy=random');
  const notices = page.locator('.notices');
  await expect(notices).toContainText("knob 'servers' cannot change while the run plays");
  await expect(notices).toContainText("unknown action 'add-shard'");
  await expect(page.locator('#knob-policy')).toHaveValue('random');
});
