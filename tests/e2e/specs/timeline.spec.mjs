import { test, expect } from '@playwright/test';
import { counts, watchErrors } from './helpers.mjs';

const playhead = (page) => page.getByTestId('playhead');
const slider = (page) => page.getByRole('slider', { name: /Virtual time/ });

/** Moves the timeline to `s` seconds and waits until the run is there. */
async function scrub(page, s) {
  await slider(page).fill(String(s));
  await expect(playhead(page)).toHaveText(`${s.toFixed(2)} s`, { timeout: 20_000 });
}

test('the timeline goes back and forth through a run, marks its schedule, and a link opens the run at its instant', async ({ page }) => {
  const errors = watchErrors(page);
  // A link to 25 s: the run opens paused there, its schedule marked on the timeline.
  await page.goto('./?p=circuit-breaker&fault=10s+hang+b&fault=20s+revive+b&t=25s');
  await expect(playhead(page)).toHaveText('25.00 s', { timeout: 20_000 });
  await expect(page.getByRole('button', { name: 'Play', exact: true })).toBeVisible();
  await expect(page.getByTestId('counts')).toContainText('t = 25.0s');
  const at25 = await counts(page);
  expect(at25.sent).toBeGreaterThan(4000);
  const marks = page.locator('.timeline .mark.fault');
  await expect(marks).toHaveCount(2);
  await expect(marks.nth(0)).toHaveAttribute('title', '10s hang b');
  const log = page.getByTestId('event-log');
  await expect(log).toContainText('revive b');

  // Back to 12 s: the log follows (the hang is in it, the revival not yet), the URL says 12s.
  await scrub(page, 12);
  await expect(log).toContainText('hang b');
  await expect(log).not.toContainText('revive b');
  expect(page.url()).toContain('t=12s');
  expect((await counts(page)).sent).toBeLessThan(at25.sent);

  // On to 30 s, then back to 25 s: the very numbers of the first visit (a replay from the seed).
  await scrub(page, 30);
  await expect(log).toContainText('revive b');
  await scrub(page, 25);
  expect(await counts(page)).toEqual(at25);

  // A mark jumps to its entry; so does an entry of the log.
  await marks.nth(1).click();
  await expect(playhead(page)).toHaveText('20.00 s');
  await log.locator('li', { hasText: 'hang b' }).click();
  await expect(playhead(page)).toHaveText('10.00 s');
  await expect(page.locator('.node-detail')).toContainText('b');
  expect(page.url()).toContain('t=10s');

  // Playing on from there: the URL no longer pins an instant, and the playhead moves.
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await expect.poll(async () => parseFloat(await playhead(page).textContent()), { timeout: 20_000 }).toBeGreaterThan(10.5);
  expect(page.url()).not.toMatch(/[?&]t=/);
  expect(errors).toEqual([]);
});

test('a fault clicked after going back joins the schedule there, and the run goes on from it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&t=20s');
  await expect(playhead(page)).toHaveText('20.00 s', { timeout: 20_000 });
  await scrub(page, 5);
  await page.locator('.node-strip').getByRole('button', { name: 'server-2', exact: true }).click();
  await page.getByRole('dialog', { name: 'Actions on server-2' }).getByRole('button', { name: 'Kill' }).click();
  expect(decodeURIComponent(page.url())).toContain('fault=5s+kill+server-2');
  await expect(page.locator('.timeline .mark.fault')).toHaveCount(1);
  // Paused, it takes effect with the next step.
  const before = await counts(page);
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await expect(page.getByTestId('event-log')).toContainText('kill server-2');
  await expect(page.locator('.node-strip .chip.dead')).toHaveText('server-2');
  expect((await counts(page)).sent).toBeGreaterThan(before.sent);
  expect(errors).toEqual([]);
});

test('a bad instant in the link is named, and the run starts from 0 s', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&t=soon');
  await expect(page.locator('.notices')).toContainText("t: 'soon' is not an instant");
  await expect.poll(async () => parseFloat(await playhead(page).textContent()), { timeout: 20_000 }).toBeGreaterThan(0.5);
  expect(errors).toEqual([]);
});

test('compared side by side, both runs go to the instant together', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&vs=policy:power-of-two&t=10s');
  await expect(playhead(page)).toHaveText('10.00 s', { timeout: 20_000 });
  const row = page.getByTestId('compare').locator('tr', { hasText: 'virtual time' }).locator('td');
  await expect(row).toHaveText(['10.0 s', '10.0 s']);
  await scrub(page, 4);
  await expect(row).toHaveText(['4.0 s', '4.0 s']);
  expect(errors).toEqual([]);
});
