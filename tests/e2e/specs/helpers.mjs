import { expect } from '@playwright/test';

/** Collects console errors and page errors; each test ends by asserting there were none. */
export function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** The run's request accounting, read from the stats line. */
export async function counts(page) {
  const text = await page.getByTestId('counts').textContent();
  const n = (name) => Number((text.match(new RegExp(`${name} (\\d+)`)) || [])[1] ?? NaN);
  return { sent: n('sent'), completed: n('completed'), rejected: n('rejected'), failed: n('failed'), timedOut: n('timed out'), inFlight: n('in flight') };
}

/** Waits until `pred(counts)` holds. */
export async function until(page, pred, timeout = 20_000) {
  await expect.poll(async () => pred(await counts(page)), { timeout }).toBe(true);
}

/** Opens a node's menu from its chip and clicks an action. */
export async function act(page, node, action) {
  await page.locator('.node-strip').getByRole('button', { name: node, exact: true }).click();
  await page.getByRole('dialog', { name: `Actions on ${node}` }).getByRole('button', { name: action }).click();
}

/** A row of the scene's measures table (one run): its text. */
export async function measureText(page, label) {
  return page.getByTestId('measures').locator('tr', { hasText: label }).locator('td').textContent();
}

/** A row of the scene's measures table (one run), as a number. */
export async function measure(page, label) {
  return Number(await measureText(page, label));
}

/** A row of the compare table: [A, B] as texts. */
export async function comparedText(page, label) {
  const cells = page.getByTestId('compare').locator('tr', { hasText: label }).locator('td');
  return [await cells.nth(0).textContent(), await cells.nth(1).textContent()];
}

/** A row of the compare table: [A, B] as numbers. */
export async function compared(page, label) {
  return (await comparedText(page, label)).map(Number);
}

/** A measure that lists numbers ("12.5 · 40.1"), as numbers. */
export const numbers = (text) => text.split('·').map((x) => Number(x.trim()));

/** The virtual time the stats line shows, in seconds. */
export async function virtualTime(page) {
  return Number(((await page.getByTestId('counts').textContent()).match(/t = ([\d.]+)s/) || [])[1] ?? NaN);
}

/** Waits until the run's virtual time passes `s` seconds. */
export async function pastSecond(page, s) {
  await expect.poll(() => virtualTime(page), { timeout: 60_000 }).toBeGreaterThan(s);
}

/** Clicks a "try this" step's button and waits for the run to start again from 0. */
export async function setUp(page, button) {
  const before = await virtualTime(page);
  await button.click();
  if (before > 5) await expect.poll(() => virtualTime(page), { timeout: 20_000 }).toBeLessThan(before);
}

/** Waits until the compare table's row `label` satisfies `pred(a, b)`. */
export async function settles(page, label, pred) {
  await expect.poll(async () => pred(...(await compared(page, label))), { timeout: 30_000 }).toBe(true);
}
