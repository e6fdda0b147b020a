import { test, expect } from '@playwright/test';
import { watchErrors } from './helpers.mjs';

test('the event log tells the run in words, filters by node and kind, shows an entry\'s node, and is what screen readers hear', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=circuit-breaker&speed=4&fault=1s+hang+b&fault=8s+set+arrival_rate%3D300');
  const log = page.getByTestId('event-log');
  await expect(log).toContainText('hang b', { timeout: 20_000 });
  await expect(log).toContainText('a: breaker open', { timeout: 20_000 });
  await expect(log).toContainText('set arrival_rate=300', { timeout: 20_000 });
  // Newest first.
  await expect(log.locator('li').first()).not.toContainText('hang b');

  // Only state changes; then only node b.
  const panel = page.getByRole('region', { name: 'Event log' });
  await panel.getByRole('combobox', { name: 'Only the kind' }).selectOption('state');
  await expect(log.locator('li')).not.toHaveCount(0);
  for (const text of await log.locator('li').allTextContents()) expect(text).toMatch(/a: breaker/);
  await panel.getByRole('combobox', { name: 'Only the kind' }).selectOption('');
  await panel.getByRole('combobox', { name: 'Only the node' }).selectOption('b');
  await expect(log.locator('li')).toHaveCount(1);
  await expect(log.locator('li')).toContainText('hang b');

  // Choosing the entry shows its node.
  await log.locator('li', { hasText: 'hang b' }).click();
  await expect(page.locator('.node-detail')).toContainText('b');

  // The live region says the newest entry in words.
  await expect(page.getByTestId('announce')).toContainText(/At [\d.]+ seconds: /);
  expect(errors).toEqual([]);
});
