import { test, expect } from '@playwright/test';
import { act, comparedText, measureText, numbers, until, watchErrors } from './helpers.mjs';

test('from the catalogue: CP refuses the cut-off region, stays linearizable; a replica killed by click', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'CAP under a partition' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('CAP under a partition');
  await page.getByRole('combobox', { name: 'Presets' }).selectOption('cp-partition');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1'); // 10x
  // During the partition, region a answers less and less; b and c everything.
  await expect.poll(async () => numbers(await measureText(page, 'requests answered, by region'))[0], { timeout: 30_000 }).toBeLessThan(0.9);
  const [, b, c] = numbers(await measureText(page, 'requests answered, by region'));
  expect(b).toBe(1);
  expect(c).toBe(1);
  expect(await measureText(page, 'keys whose history is not linearizable')).toBe('0');
  await page.screenshot({ path: info.outputPath('cap-cp-partition.png') });
  // Kill replica-b by click: with a cut off as well, no region has a quorum of two.
  await act(page, 'replica-b', 'Kill');
  await until(page, (cnt) => cnt.failed > 500);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('each "try this" step of CAP shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=cap&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. CP: region a answers nothing during the partition; no history breaks.
  await step(0).click();
  await expect.poll(async () => numbers(await measureText(page, 'requests answered, by region'))[0], { timeout: 30_000 }).toBeLessThan(0.7);
  expect(await measureText(page, 'keys whose history is not linearizable')).toBe('0');

  // 2. CP against AP: AP answers everywhere, and pays in stale reads and broken histories.
  await step(1).click();
  await expect.poll(async () => {
    const [cpSides, apSides] = await comparedText(page, 'requests answered, by region');
    const [cpLin, apLin] = await comparedText(page, 'keys whose history is not linearizable');
    const [cpStale, apStale] = await comparedText(page, 'stale reads');
    return numbers(cpSides)[0] < 0.8 && numbers(apSides).every((x) => x === 1) && cpLin === '0' && Number(apLin) > 0 && cpStale === '0' && Number(apStale) > 0;
  }, { timeout: 40_000 }).toBe(true);

  // 3. LWW against siblings: writes lost on one side only, conflicts on both.
  await step(2).click();
  await expect.poll(async () => {
    const [lww, siblings] = await comparedText(page, 'acknowledged writes lost');
    const [cl, cs] = await comparedText(page, 'concurrent versions reconciled');
    return Number(lww) > 0 && siblings === '0' && Number(cl) > 0 && Number(cs) > 0;
  }, { timeout: 40_000 }).toBe(true);
  expect(errors).toEqual([]);
});
