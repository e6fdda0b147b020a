import { test, expect } from '@playwright/test';
import { act, compared, settles, measure, measureText, numbers, pastSecond, setUp, watchErrors } from './helpers.mjs';


test('from the catalogue: the queue answers at once and retries in the background; a worker killed by click loses no job', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Async processing' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Async processing');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 20);
  const [p50, p99] = numbers(await measureText(page, "user's answer, p50 · p99"));
  expect(p99).toBeLessThan(50);
  expect(p50).toBeGreaterThan(0);
  expect(await measure(page, 'jobs retried')).toBeGreaterThan(0);

  // Kill the SMTP server by click: jobs back up and are retried; users are still answered at once.
  await act(page, 'smtp', 'Kill');
  await expect.poll(() => measure(page, 'longest queue (jobs)'), { timeout: 20_000 }).toBeGreaterThan(30);
  await act(page, 'smtp', 'Revive');
  // Kill two workers mid-job: their jobs go out again.
  await act(page, 'worker-1', 'Kill');
  await act(page, 'worker-2', 'Kill');
  await pastSecond(page, 50);
  expect(numbers(await measureText(page, "user's answer, p50 · p99"))[1]).toBeLessThan(50);
  expect(await measure(page, 'jobs vanished')).toBe(0);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await page.screenshot({ path: info.outputPath('async-processing.png') });
  expect(errors).toEqual([]);
});

test('each "try this" step of async processing shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=async-processing&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });
  const bothNumbers = async (label) => {
    const cells = page.getByTestId('compare').locator('tr', { hasText: label }).locator('td');
    return [numbers(await cells.nth(0).textContent()), numbers(await cells.nth(1).textContent())];
  };

  // 1. Sync against async: threads saturated and seconds of waiting, against milliseconds; the goal ticks on the async side.
  await setUp(page, step(0));
  await pastSecond(page, 30);
  await settles(page, 'web threads busy, mean', (sync, queued) => sync > 0.9 && queued < 0.05);
  const [sync, queued] = await bothNumbers("user's answer, p50 · p99");
  expect(sync[0]).toBeGreaterThan(2000);
  expect(queued[1]).toBeLessThan(100);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. The SMTP outage: dead letters with a DLQ, drops without one.
  await setUp(page, step(1));
  await pastSecond(page, 45);
  await settles(page, 'jobs dead-lettered', (dlq, none) => dlq > 50 && none === 0);
  await settles(page, 'jobs dropped (no DLQ)', (dlq, none) => dlq === 0 && none > 50);

  // 3. Workers crash and freeze mid-job: jobs go out again, none vanish.
  await setUp(page, step(2));
  await pastSecond(page, 58);
  expect(await measure(page, 'jobs vanished')).toBe(0);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});
