import { test, expect } from '@playwright/test';
import { watchErrors } from './helpers.mjs';

/** How many pixels of the stage are `rgb` (or within a few levels of it: dots fall between
 * pixels), and the colour of its top-left corner. */
async function stagePixels(page, rgb) {
  return page.locator('canvas.stage').evaluate((c, [r, g, b]) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 40) n++;
    return { n, corner: [d[0], d[1], d[2]] };
  }, rgb);
}

test('light and dark themes: the system\'s by default, the toggle\'s once chosen, canvases included', async ({ page }) => {
  const errors = watchErrors(page);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('./?p=load-balancing');
  await expect.poll(async () => (await stagePixels(page, [0, 0, 0])).corner).toEqual([11, 16, 21]);
  await page.getByRole('button', { name: 'Light theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect.poll(async () => (await stagePixels(page, [0, 0, 0])).corner).toEqual([255, 255, 255]);
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(246, 248, 250)');
  // The legend's swatches take the light colours too (the request dot's light blue).
  await expect(page.locator('.legend .swatch').first()).toHaveAttribute('style', 'background:#0969da');
  // Kept on this device: a reload opens in light.
  await page.reload();
  await expect.poll(async () => (await stagePixels(page, [0, 0, 0])).corner).toEqual([255, 255, 255]);
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await expect.poll(async () => (await stagePixels(page, [0, 0, 0])).corner).toEqual([11, 16, 21]);
  expect(errors).toEqual([]);
});

test('with no choice made, the page follows a light system', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('./?p=circuit-breaker');
  await expect.poll(async () => (await stagePixels(page, [0, 0, 0])).corner).toEqual([255, 255, 255]);
  await expect(page.getByRole('button', { name: 'Dark theme' })).toBeVisible();
});

test('reduced motion: no dot moves, the links count their messages instead, and states still show', async ({ page }) => {
  const errors = watchErrors(page);
  const blue = [76, 194, 255]; // a request's dot, in the dark theme
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('./?p=load-balancing&speed=0.5');
  await expect.poll(async () => (await stagePixels(page, blue)).n, { timeout: 10_000 }).toBeGreaterThan(0);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto('./?p=load-balancing&speed=0.5&fault=1s+kill+server-2');
  await expect(page.getByTestId('playhead')).not.toHaveText('0.00 s');
  await page.waitForTimeout(1500);
  // Several frames, never a dot.
  for (let i = 0; i < 5; i++) {
    expect((await stagePixels(page, blue)).n).toBe(0);
    await page.waitForTimeout(100);
  }
  // The dead server still shows: its chip, and the log's words.
  await expect(page.locator('.node-strip .chip.dead')).toHaveText('server-2');
  await expect(page.getByTestId('event-log')).toContainText('kill server-2');
  expect(errors).toEqual([]);
});
