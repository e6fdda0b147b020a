import { test, expect } from '@playwright/test';
import { act, compared, counts, measure, pastSecond, until, watchErrors } from './helpers.mjs';


test('from the catalogue: an incident injected by its button fires the p99 alert; the scraper killed by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Monitoring' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Monitoring');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.7'); // 50x
  await pastSecond(page, 5);
  expect(await measure(page, 'alerts fired')).toBe(0);

  // A latency spike by its button: the schedule and the URL carry it; the p99 rule fires.
  await page.getByRole('button', { name: 'latency-spike', exact: true }).click();
  await expect(page).toHaveURL(/\+latency-spike/);
  await expect.poll(() => measure(page, 'alerts fired'), { timeout: 30_000 }).toBe(1);
  expect(await measure(page, 'alerts with no incident')).toBe(0);
  await page.screenshot({ path: info.outputPath('monitoring-alert.png') });

  // Kill the scraper by click: the alert state is gone with it, and nothing is violated.
  await act(page, 'scraper', 'Kill');
  const c = await counts(page);
  await until(page, (n) => n.completed > c.completed + 1000);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('each "try this" step of monitoring shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=monitoring&speed=50');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. The mean never fires; the p99 does; the goal ticks on the p99 side.
  await step(0).click();
  await expect(page).toHaveURL(/vs=signal%3Ap99/);
  await pastSecond(page, 50);
  await expect.poll(async () => { const [mean, p99] = await compared(page, 'alerts fired'); return mean === 0 && p99 === 1; }, { timeout: 30_000 }).toBe(true);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. Scraping every minute against every 10 s: the alert comes 30 s later.
  await step(1).click();
  await pastSecond(page, 125);
  await expect.poll(async () => { const [slow, fast] = await compared(page, 'time to alert'); return slow >= fast + 20; }, { timeout: 30_000 }).toBe(true);
  expect(errors).toEqual([]);
});
