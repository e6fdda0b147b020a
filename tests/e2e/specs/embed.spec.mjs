import { test, expect } from '@playwright/test';
import { virtualTime } from './helpers.mjs';

const HOST = 'http://127.0.0.1:4173/host/embeds.html';

/** The virtual time an embedded run shows, twice a second apart: [before, after]. */
async function twoReadings(frame) {
  const a = await virtualTime(frame);
  await new Promise((r) => setTimeout(r, 1000));
  return [a, await virtualTime(frame)];
}

test('two scenes embedded in a host page: no scroll or focus taken, each plays in view and pauses out of it', async ({ page }, info) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setViewportSize({ width: 900, height: 800 });
  await page.goto(HOST);
  const lb = page.frameLocator('#lb');
  const cb = page.frameLocator('#cb');

  // The first embed, in view, plays.
  await expect.poll(() => virtualTime(lb), { timeout: 20_000 }).toBeGreaterThan(1);
  // Loading two apps moved nothing of the host: its scroll and the reader's focus stay.
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  expect(await page.evaluate(() => document.activeElement && document.activeElement.id)).toBe('reader');

  // The second, below the fold, has not run.
  const [cbBefore, cbAfter] = await twoReadings(cb);
  expect(cbAfter).toBe(cbBefore);
  expect(cbBefore).toBeLessThan(1);

  // Scrolled to the second: it plays, and the first, now out of view, waits.
  await page.locator('#cb').scrollIntoViewIfNeeded();
  await expect.poll(() => virtualTime(cb), { timeout: 20_000 }).toBeGreaterThan(3);
  const [lbBefore, lbAfter] = await twoReadings(lb);
  expect(lbAfter).toBe(lbBefore);
  await expect.poll(async () => (await twoReadings(cb)).reduce((a, b) => b - a), { timeout: 10_000 }).toBeGreaterThan(0);

  // Back up: the first resumes where it was.
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect.poll(() => virtualTime(lb), { timeout: 20_000 }).toBeGreaterThan(lbAfter);

  // The 320 px embed fits without sideways scrolling, and offers the full page with the same run.
  const lbFrame = page.frame({ url: /p=load-balancing/ });
  expect(await lbFrame.evaluate(() => document.scrollingElement.scrollWidth)).toBeLessThanOrEqual(320);
  const open = lb.getByRole('link', { name: /Open in clusterlab/ });
  await expect(open).toHaveAttribute('href', /p=load-balancing/);
  await expect(open).toHaveAttribute('href', /speed=4/);
  await expect(open).not.toHaveAttribute('href', /embed/);
  await expect(cb.getByRole('link', { name: /Open in clusterlab/ })).toHaveAttribute('href', /fault=2s\+hang\+b/);
  await page.screenshot({ path: info.outputPath('embeds-host.png'), fullPage: false });
  expect(errors).toEqual([]);
});
