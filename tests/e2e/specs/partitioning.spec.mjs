import { test, expect } from '@playwright/test';
import { act, comparedText, measureText, numbers, until, watchErrors } from './helpers.mjs';

test('from the catalogue: range by date prunes recent queries; a partition killed by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Data partitioning' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Data partitioning');
  await page.getByRole('combobox', { name: 'Presets' }).selectOption('range-by-date');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await until(page, (c) => c.completed > 2000);
  const [point, recent] = numbers(await measureText(page, 'by point lookup'));
  expect(point).toBe(8);
  expect(recent).toBeLessThan(2.5);
  // Once the rows pass the retention, the oldest partition is dropped whole.
  await expect.poll(async () => Number(await measureText(page, 'rows dropped whole')), { timeout: 30_000 }).toBeGreaterThan(0);
  await page.screenshot({ path: info.outputPath('partitioning-range.png') });
  const before = (await page.getByTestId('counts').textContent()).match(/failed (\d+)/)[1];
  await act(page, 'partition-3', 'Kill');
  await until(page, (c) => c.failed > Number(before) + 20);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('each "try this" step of partitioning shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=partitioning&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });
  await step(0).click();
  await expect.poll(async () => numbers(await measureText(page, 'by point lookup'))[1], { timeout: 20_000 }).toBeLessThan(2.5);
  await step(1).click();
  await expect.poll(async () => {
    const [r, h] = await comparedText(page, 'by point lookup');
    return numbers(r)[1] < 2.5 && numbers(h)[1] === 8 && numbers(h)[0] === 1 && numbers(r)[0] === 8;
  }, { timeout: 20_000 }).toBe(true);
  await step(2).click();
  await expect.poll(async () => {
    const [skewed, even] = await comparedText(page, 'largest partition / mean');
    return Number(skewed) > 3 && Number(even) < 1.3;
  }, { timeout: 20_000 }).toBe(true);
  expect(errors).toEqual([]);
});
