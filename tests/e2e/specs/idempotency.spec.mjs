import { test, expect } from '@playwright/test';
import { act, compared, counts, measure, pastSecond, until, watchErrors } from './helpers.mjs';


test('from the catalogue: keys keep lost answers from charging twice; the API crashed by click charges no one twice', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Idempotency' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Idempotency');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await until(page, (c) => c.completed > 500);
  expect(await measure(page, 'answered from the key store')).toBeGreaterThan(10);
  expect(await measure(page, 'duplicate charges')).toBe(0);

  // Lose every other answer, live: retries multiply, charges do not.
  await page.locator('#knob-response_loss').fill('0.5');
  await page.locator('#knob-response_loss').press('Enter');
  await expect(page).toHaveURL(/set\+response_loss%3D0.5/);
  const before = await measure(page, 'retries sent');
  await expect.poll(() => measure(page, 'retries sent'), { timeout: 20_000 }).toBeGreaterThan(before + 100);

  // Crash the API by click, and bring it back: still no payment charged twice.
  await act(page, 'api', 'Kill');
  await page.waitForTimeout(500);
  await act(page, 'api', 'Revive');
  const c = await counts(page);
  await until(page, (n) => n.completed > c.completed + 200);
  expect(await measure(page, 'duplicate charges')).toBe(0);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  await page.screenshot({ path: info.outputPath('idempotency.png') });
  expect(errors).toEqual([]);
});

test('each "try this" step of idempotency shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=idempotency&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. No keys against keys: duplicates only without; the goal ticks on the keyed side.
  await step(0).click();
  await expect(page).toHaveURL(/vs=idempotency_keys%3Aon/);
  await expect.poll(async () => { const [none, keyed] = await compared(page, 'duplicate charges'); return none > 50 && keyed === 0; }, { timeout: 30_000 }).toBe(true);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. The crash at 20 s: 409s for the locked payments, no duplicates.
  await step(1).click();
  await pastSecond(page, 24);
  expect(await measure(page, '409: still under way')).toBeGreaterThan(0);
  expect(await measure(page, 'duplicate charges')).toBe(0);

  // 3. Check-then-charge against a lock: duplicates only without the lock.
  await step(2).click();
  await expect.poll(async () => { const [unlocked, locked] = await compared(page, 'duplicate charges'); return unlocked > 50 && locked === 0; }, { timeout: 30_000 }).toBe(true);
  expect(errors).toEqual([]);
});
