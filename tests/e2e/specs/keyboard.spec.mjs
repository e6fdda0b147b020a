import { test, expect } from '@playwright/test';
import { virtualTime, watchErrors } from './helpers.mjs';

test('the keyboard drives the controls: space, the right arrow, + and -, and ? for the list', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=2');
  const play = page.getByRole('toolbar', { name: 'Simulation controls' }).getByRole('button', { name: /^(Play|Pause)$/ });
  await expect(play).toHaveText('Pause');
  await page.locator('body').press(' ');
  await expect(play).toHaveText('Play');

  // Paused, the right arrow steps a quarter of a virtual second.
  await page.waitForTimeout(400);
  const before = await virtualTime(page);
  await page.keyboard.press('ArrowRight');
  // (the stats line shows a tenth of a second)
  await expect.poll(() => virtualTime(page)).toBeGreaterThan(before + 0.15);
  expect(await virtualTime(page)).toBeLessThan(before + 0.35);
  // The left arrow steps back as much: the very instant before (the run replayed to it).
  const stepped = await page.getByTestId('playhead').textContent();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('playhead')).toHaveText(`${(parseFloat(stepped) - 0.25).toFixed(2)} s`);

  // + doubles the speed and - halves it; the URL keeps it.
  await page.keyboard.press('+');
  await expect(page.locator('.speed')).toContainText('4.00x');
  await expect(page).toHaveURL(/speed=4/);
  await page.keyboard.press('-');
  await page.keyboard.press('-');
  await expect(page.locator('.speed')).toContainText('1.00x');

  // ? lists the shortcuts; Escape closes the list; space plays again.
  await page.keyboard.press('?');
  const list = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(list).toContainText('play or pause');
  await page.keyboard.press('Escape');
  await expect(list).toHaveCount(0);
  await page.keyboard.press(' ');
  await expect(play).toHaveText('Pause');

  // Keys typed into a knob stay in the knob.
  await page.locator('#knob-arrival_rate').fill('');
  await page.locator('#knob-arrival_rate').type('12+');
  await expect(page.locator('.speed')).toContainText('1.00x');
  expect(errors).toEqual([]);
});
