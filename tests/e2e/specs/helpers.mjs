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
