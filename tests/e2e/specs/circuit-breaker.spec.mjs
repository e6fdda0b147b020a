import { test, expect } from '@playwright/test';
import { act, counts, until, watchErrors } from './helpers.mjs';

test('a hung dependency opens the breaker; A fails fast; invariants hold', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=circuit-breaker&speed=4&fault=1s+hang+b');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Circuit breaker');
  const a = page.locator('.node-strip').getByRole('button', { name: 'a', exact: true });
  await expect.poll(async () => { await a.hover(); return page.locator('.node-detail').textContent(); }, { timeout: 20_000 }).toContain('open');
  await until(page, (c) => c.failed > 200);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await page.screenshot({ path: info.outputPath('circuit-breaker-open.png') });
  expect(errors).toEqual([]);
});

test('reviving B by clicking it closes the breaker again through half-open', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=circuit-breaker&speed=4&fault=1s+hang+b');
  const a = page.locator('.node-strip').getByRole('button', { name: 'a', exact: true });
  await expect.poll(async () => { await a.hover(); return page.locator('.node-detail').textContent(); }, { timeout: 20_000 }).toContain('open');
  await act(page, 'b', 'Revive');
  await expect(page).toHaveURL(/revive\+b/);
  await expect.poll(async () => { await a.hover(); return page.locator('.node-detail').textContent(); }, { timeout: 30_000 }).toContain('closed');
  const before = await counts(page);
  await until(page, (c) => c.completed > before.completed + 200);
  expect(errors).toEqual([]);
});

test('without a breaker the hung dependency pins every worker of A', async ({ page }) => {
  await page.goto('./?p=circuit-breaker&breaker=off&speed=4&fault=1s+hang+b');
  const a = page.locator('.node-strip').getByRole('button', { name: 'a', exact: true });
  await expect.poll(async () => { await a.hover(); return page.locator('.node-detail').textContent(); }, { timeout: 20_000 }).toContain('busy 20/20');
});

test('embed mode drops the chrome and keeps the stage', async ({ page }) => {
  await page.goto('./?p=circuit-breaker&embed');
  await expect(page.locator('canvas.stage')).toBeVisible();
  await expect(page.locator('header.top')).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Patterns' })).toHaveCount(0);
  await expect(page).toHaveURL(/embed/);
});

test('the page offers its iframe snippet', async ({ page }) => {
  await page.goto('./?p=circuit-breaker&breaker=off');
  await page.getByRole('button', { name: 'Embed' }).click();
  await expect(page.locator('#embed-code')).toHaveValue(/<iframe src=".*breaker=off.*&embed"/);
});

test('on a 360 px phone the page stacks without sideways scrolling', async ({ page }, info) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto('./?p=load-balancing');
  await until(page, (c) => c.completed > 100);
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(360);
  await page.screenshot({ path: info.outputPath('phone-360.png'), fullPage: true });
});
