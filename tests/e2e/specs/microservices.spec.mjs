import { test, expect } from '@playwright/test';
import { act, compared, settles, measure, pastSecond, setUp, watchErrors } from './helpers.mjs';


test('from the catalogue: measured slow share and availability sit on the theory; a service killed by click fails every request', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Microservices' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Microservices');
  await page.getByRole('combobox', { name: 'Presets' }).selectOption('fan-out-tail');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 30);
  const theory = await measure(page, 'theory (1-(1-p)^N)');
  expect(theory).toBeCloseTo(0.096, 2);
  expect(Math.abs((await measure(page, 'share slower than 100 ms')) - theory)).toBeLessThan(0.02);
  // The theory table: the share touching a slow call grows with the fan-out.
  const cells = await page.getByTestId('side-by-side').locator('tr', { hasText: 'touches a slow call' }).locator('td').allTextContents();
  const shares = cells.map(Number);
  expect(shares.length).toBe(6);
  for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThan(shares[i - 1]);
  await page.screenshot({ path: info.outputPath('microservices.png') });

  // Kill both replicas of one service by click: every request fails.
  const before = await measure(page, 'availability');
  await act(page, 'user-1', 'Kill');
  await act(page, 'user-2', 'Kill');
  await expect.poll(() => measure(page, 'availability'), { timeout: 20_000 }).toBeLessThan(before - 0.05);
  expect(errors).toEqual([]);
});

test('each "try this" step of microservices shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=microservices&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. Ten services against one: about 10% of requests touch a slow call, against 1%.
  await setUp(page, step(0));
  await pastSecond(page, 30);
  await settles(page, 'share slower than 100 ms', (ten, one) => Math.abs(ten - 0.096) < 0.025 && one < 0.025);

  // 2. Ten services at 99% against a monolith: about 90% against 99%; the goal ticks on the monolith's side.
  await setUp(page, step(1));
  await pastSecond(page, 30);
  await settles(page, 'availability', (micro, mono) => Math.abs(micro - 0.904) < 0.02 && mono > 0.98);
  await expect(page.locator('.try-this li').nth(1).getByTestId('goal')).toContainText('✓ met');

  // 3. One service's replicas die: availability falls.
  await setUp(page, step(2));
  await pastSecond(page, 29);
  expect(await measure(page, 'availability')).toBeLessThan(0.85);
  expect(errors).toEqual([]);
});
