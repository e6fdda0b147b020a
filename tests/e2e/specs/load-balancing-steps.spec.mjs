import { test, expect } from '@playwright/test';
import { comparedText, counts, measureText, numbers, pastSecond, setUp, virtualTime, watchErrors } from './helpers.mjs';

/** The stats line's latency percentiles, in ms: { p50, p95, p99 } (seconds converted). */
async function latency(page) {
  const text = await page.getByTestId('latency').textContent();
  const get = (name) => {
    const m = text.match(new RegExp(`${name} ([\\d.]+) (ms|s)`));
    return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN;
  };
  return { p50: get('p50'), p95: get('p95'), p99: get('p99') };
}

// The last step (random routing against the dashed M/M/1 line) is checked natively, on
// the same setup: crates/sim/tests/theory.rs, random_routing_matches_mm1_mean_p95_p99...
test('each "try this" step of load balancing shows what its text claims', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. Round robin with server-4 at quarter speed: its queue fills and it refuses; p99 explodes.
  await setUp(page, step(0));
  await pastSecond(page, 20);
  const refused = numbers(await measureText(page, 'refused per server'));
  expect(refused.slice(0, 3)).toEqual([0, 0, 0]);
  expect(refused[3]).toBeGreaterThan(1000);
  expect((await latency(page)).p99).toBeGreaterThan(1000);

  // 2. Power of two choices: the slow server gets less work, nothing is refused, p99 stays low.
  await setUp(page, step(1));
  await pastSecond(page, 20);
  const done = numbers(await measureText(page, 'completed per server'));
  expect(done[3] * 2).toBeLessThan(done[0]);
  expect(numbers(await measureText(page, 'refused per server'))).toEqual([0, 0, 0, 0]);
  expect((await latency(page)).p99).toBeLessThan(50);

  // 3. server-2 killed at 10.5 s, no health checks: a quarter of the requests fail from then on.
  await setUp(page, step(2));
  await pastSecond(page, 30);
  let c = await counts(page);
  let t = await virtualTime(page);
  const failedShare = c.failed / (3000 * (t - 10.5));
  expect(failedShare).toBeGreaterThan(0.22);
  expect(failedShare).toBeLessThan(0.28);

  // 4. The same kill with health checks every second: a few failures, then none.
  await setUp(page, step(3));
  await pastSecond(page, 15);
  const early = await counts(page);
  expect(early.failed).toBeGreaterThan(0);
  expect(early.failed).toBeLessThan(1000);
  await pastSecond(page, 25);
  c = await counts(page);
  expect(c.failed).toBe(early.failed);

  // 5. Both policies on the very same traffic: round robin refuses at server-4, power of two does not.
  await setUp(page, step(4));
  await expect(page).toHaveURL(/vs=policy%3Apower-of-two/);
  await pastSecond(page, 20);
  const cells = page.getByTestId('compare').locator('tr', { hasText: 'refused per server' }).locator('td');
  expect(numbers(await cells.nth(0).textContent())[3]).toBeGreaterThan(1000);
  expect(numbers(await cells.nth(1).textContent())).toEqual([0, 0, 0, 0]);
  const sent = page.getByTestId('compare').locator('tr', { hasText: 'sent' }).first().locator('td');
  await page.screenshot({ path: info.outputPath('load-balancing-compare.png'), fullPage: true });
  // Both sides read in one call: the table is redrawn four times a second.
  const [sentA, sentB] = await sent.allTextContents();
  expect(sentA).toBe(sentB);

  // 7. Slowness that moves, least connections against peak-EWMA: p99 about a third.
  const p99s = async () => (await comparedText(page, 'p99')).map(parseFloat);
  await setUp(page, step(6));
  await expect(page).toHaveURL(/vs=policy%3Apeak-ewma/);
  await pastSecond(page, 45);
  let [a, b] = await p99s();
  expect(b).toBeLessThan(0.5 * a);

  // 8. Requests of widely different cost: round robin's p99 more than twice least connections'...
  await setUp(page, step(7));
  await expect(page).toHaveURL(/vs=policy%3Aleast-connections/);
  await pastSecond(page, 20);
  [a, b] = await p99s();
  expect(a).toBeGreaterThan(2 * b);
  // ...and with every request the same (service_cv 0, slid down as the text says), the same p99.
  const before = await virtualTime(page);
  await page.locator('#knob-service_cv').fill('0');
  await page.locator('#knob-service_cv').press('Enter');
  await expect(page).toHaveURL(/service_cv=0/);
  await expect.poll(() => virtualTime(page), { timeout: 20_000 }).toBeLessThan(before);
  await pastSecond(page, 5);
  // (read when both sides show the same instant: the compared side can be a frame behind)
  await expect.poll(async () => { [a, b] = await p99s(); return a === b; }, { timeout: 20_000 }).toBe(true);
  expect(errors).toEqual([]);
});
