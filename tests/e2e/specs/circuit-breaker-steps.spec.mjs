import { test, expect } from '@playwright/test';
import { compared, measure, numbers, pastSecond, setUp, watchErrors } from './helpers.mjs';

const OUTAGE_SHARE = 'not needing B: success rate during';

test('each "try this" step of the circuit breaker shows what its text claims', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=circuit-breaker&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. No breaker: the requests that never needed B fall to almost nothing during the hang.
  await setUp(page, step(0));
  await pastSecond(page, 30);
  expect(await measure(page, OUTAGE_SHARE)).toBeLessThan(10);
  expect(await measure(page, "A's busiest moment")).toBe(20);

  // 2. With the breaker they keep succeeding; after B returns at 40 s it closes again.
  await setUp(page, step(1));
  await pastSecond(page, 44);
  expect(await measure(page, OUTAGE_SHARE)).toBeGreaterThanOrEqual(95);
  expect(await measure(page, 'breaker transitions')).toBeGreaterThan(2);
  const a = page.locator('.node-strip').getByRole('button', { name: 'a', exact: true });
  await expect.poll(async () => { await a.hover(); return page.locator('.node-detail').textContent(); }, { timeout: 20_000 }).toContain('closed');

  // 3. B refuses connections: calls fail fast, none hangs, and the breaker opens.
  await setUp(page, step(2));
  await pastSecond(page, 25);
  expect(await measure(page, 'failed fast')).toBeGreaterThan(1000);
  expect(await measure(page, 'calls B never answered')).toBe(0);
  expect(await measure(page, 'breaker transitions')).toBeGreaterThan(0);

  // 4. Side by side on the same traffic: the table alone tells the lesson and its price.
  await setUp(page, step(3));
  await expect(page).toHaveURL(/vs=breaker%3Aon/);
  await pastSecond(page, 45);
  const [offShare, onShare] = await compared(page, OUTAGE_SHARE);
  expect(offShare).toBeLessThan(10);
  expect(onShare).toBeGreaterThanOrEqual(95);
  const [offCompleted, onCompleted] = await compared(page, 'not needing B: completed');
  expect(onCompleted).toBeGreaterThan(1.5 * offCompleted);
  const failureTimes = page.getByTestId('compare').locator('tr', { hasText: 'time a failed request took' }).locator('td');
  const offMean = numbers(await failureTimes.nth(0).textContent())[0];
  const onMean = numbers(await failureTimes.nth(1).textContent())[0];
  expect(onMean * 4).toBeLessThan(offMean);
  const [offWaiting, onWaiting] = await compared(page, 'clients waiting on A, on average');
  expect(onWaiting * 4).toBeLessThan(offWaiting);
  const [offUnanswered, onUnanswered] = await compared(page, 'calls B never answered');
  expect(onUnanswered * 4).toBeLessThan(offUnanswered);
  // The price: the breaker is back no sooner than the run without it.
  const [offRecovery, onRecovery] = await compared(page, 'back to normal after B returns');
  expect(onRecovery).toBeGreaterThanOrEqual(offRecovery);
  expect(onRecovery).toBeLessThanOrEqual(6);
  await page.screenshot({ path: info.outputPath('circuit-breaker-compare.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('the breaker\'s goal ticks with its own setup and says what fell short without it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=circuit-breaker&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });
  const goal = page.locator('.try-this li').nth(1).getByTestId('goal');
  await expect(goal).toContainText('Goal: Keep the requests that never needed B succeeding');
  await setUp(page, step(1));
  await pastSecond(page, 44);
  await expect(goal).toContainText('✓ met');
  await setUp(page, step(0));
  await pastSecond(page, 30);
  await expect(goal).toContainText(/✗ not yet: independent_outage_pct is \d/);
  expect(errors).toEqual([]);
});
