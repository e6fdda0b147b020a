import { test, expect } from '@playwright/test';
import { act, compared, comparedText, counts, measure, pastSecond, until, watchErrors } from './helpers.mjs';

/** A row of the side-by-side table: one number per algorithm, in ALGORITHMS order. */
async function byAlgorithm(page, label) {
  const cells = page.getByTestId('side-by-side').locator('tr', { hasText: label }).locator('td');
  return (await cells.allTextContents()).map((x) => (x === '—' ? NaN : Number(x)));
}

test('from the catalogue: a user turns abusive by a knob and the limiter refuses only them; every algorithm side by side', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Rate limiting' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Rate limiting');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await until(page, (c) => c.completed > 500);
  expect(await measure(page, '429s, to anyone')).toBeLessThan(5);

  // user-0 turns abusive: the knob joins the schedule, and the limiter refuses them.
  await page.locator('#knob-abuse_rate').fill('400');
  await page.locator('#knob-abuse_rate').press('Enter');
  await expect(page).toHaveURL(/set\+abuse_rate%3D400/);
  await expect.poll(() => measure(page, '429s, to anyone'), { timeout: 20_000 }).toBeGreaterThan(2000);
  expect(await measure(page, "other users' requests served (%)")).toBeGreaterThanOrEqual(99);
  expect(await measure(page, '429s to users other than user-0')).toBeLessThan(5);

  // The same requests through all five algorithms and none: a column each.
  const table = page.getByTestId('side-by-side');
  await expect(table.locator('thead th[scope=col]')).toHaveText(['token-bucket', 'leaky-bucket', 'fixed-window', 'sliding-log', 'sliding-window', 'none']);
  const max = await byAlgorithm(page, 'most for one free key in any window');
  expect(max.slice(0, 5).every((m) => m <= 10)).toBe(true);
  expect(max[5]).toBeGreaterThan(100);
  await page.screenshot({ path: info.outputPath('rate-limiting-abuse.png') });

  // Kill the API by click: admitted requests fail; the invariants hold.
  const before = await counts(page);
  await act(page, 'api', 'Kill');
  await until(page, (c) => c.failed > before.failed + 20);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('each "try this" step of rate limiting shows what its text claims', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=rate-limiting&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });
  const pastFlood = () => pastSecond(page, 14);

  // 1. The token bucket: user-0 refused, everyone else served; the goal ticks.
  await step(0).click();
  await pastFlood();
  expect(await measure(page, '429s, to anyone')).toBeGreaterThan(1000);
  expect(await measure(page, "other users' requests served (%)")).toBeGreaterThanOrEqual(99);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. Against no limit: the API saturates and the other users suffer.
  await step(1).click();
  await expect(page).toHaveURL(/vs=algorithm%3Anone/);
  await expect.poll(async () => { const [bucket, none] = await compared(page, "other users' requests served (%)"); return bucket >= 99 && none < 97; }, { timeout: 40_000 }).toBe(true);

  // 3. The fixed window against the sliding log: twice the limit across a boundary, against the limit.
  await step(2).click();
  await expect.poll(async () => { const [fixed, log] = await compared(page, 'most admitted for one free key'); return fixed === 10 && log === 5; }, { timeout: 40_000 }).toBe(true);
  await page.screenshot({ path: info.outputPath('rate-limiting-fixed-vs-log.png') });

  // 4. Keyed by IP against by user: the abuser's neighbours refused only when keyed by IP.
  await step(3).click();
  await expect.poll(async () => { const [ip, user] = await compared(page, '429s to users other than user-0'); return ip > 20 && user === 0; }, { timeout: 40_000 }).toBe(true);
  expect((await comparedText(page, 'admitted: free · premium'))[0]).toMatch(/\d+ · \d+/);
  expect(errors).toEqual([]);
});
