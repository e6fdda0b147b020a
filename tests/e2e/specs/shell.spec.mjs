import { test, expect } from '@playwright/test';
import { watchErrors } from './helpers.mjs';



test('the shell renders from a sub-path with no console errors', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./');
  await expect(page.locator('.brand')).toHaveText('clusterlab');
  const catalogue = page.getByRole('navigation', { name: 'Patterns' });
  await expect(catalogue.locator('li')).toHaveCount(21);
  await expect(catalogue.getByRole('link', { name: 'Load balancing' })).toBeVisible();
  await expect(page.locator('#fatal')).toBeHidden();
  await page.screenshot({ path: info.outputPath('shell.png'), fullPage: true });
  expect(errors).toEqual([]);
});
