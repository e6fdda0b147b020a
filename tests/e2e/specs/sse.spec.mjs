import { test, expect } from '@playwright/test';
import { act, compared, comparedText, measure, numbers, pastSecond, setUp, settles, watchErrors } from './helpers.mjs';

test('from the catalogue: the proxy drops every stream by click, and the browsers resume missing nothing', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=10');
  await page.getByRole('navigation', { name: 'Patterns' }).getByRole('link', { name: 'Server-sent events' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Server-sent events');
  await page.getByRole('slider', { name: 'Speed of virtual time' }).fill('1.3'); // 20x
  await pastSecond(page, 5);
  expect(await measure(page, 'streams cut by the proxy')).toBe(0);
  expect(await measure(page, 'events delivered')).toBeGreaterThan(1000);

  // A reload of the proxy: a thousand streams cut at once; with Last-Event-ID (the default) each resumes where it was.
  await page.getByRole('button', { name: 'cut-connections', exact: true }).click();
  await expect(page).toHaveURL(/\+cut-connections/);
  await expect.poll(() => measure(page, 'streams cut by the proxy'), { timeout: 20_000 }).toBe(1000);
  await expect.poll(() => measure(page, 'reconnections'), { timeout: 30_000 }).toBeGreaterThan(990);
  await expect.poll(() => measure(page, 'events replayed after a reconnection'), { timeout: 30_000 }).toBeGreaterThan(0);
  expect(await measure(page, 'events missed')).toBe(0);

  // The proxy killed by click: its streams reset, the browsers retry until it is back, then resume
  // (all but the few who closed the page meanwhile: a new page is a new reader, not a reconnection).
  const before = await measure(page, 'reconnections');
  await act(page, 'proxy', 'Kill');
  const killedAt = Number(((await page.getByTestId('counts').textContent()).match(/t = ([\d.]+)s/) || [])[1]);
  await pastSecond(page, killedAt + 5);
  await act(page, 'proxy', 'Revive');
  await expect.poll(() => measure(page, 'reconnections'), { timeout: 40_000 }).toBeGreaterThan(before + 950);
  expect(await measure(page, 'events missed')).toBe(0);
  await expect(page.locator('.invariants li.violated')).toHaveCount(0);
  await expect(page.locator('.invariants li.ok')).toHaveCount(2);
  await page.screenshot({ path: info.outputPath('sse.png') });
  expect(errors).toEqual([]);
});

test('each "try this" step of server-sent events shows what its text claims', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=sse&speed=20');
  const step = (i) => page.locator('.try-this li').nth(i).getByRole('button', { name: 'Set it up' });

  // 1. The proxy reloads at 20 s: without Last-Event-ID thousands of events are missed; with it none, replayed late.
  await setUp(page, step(0));
  await pastSecond(page, 30);
  await settles(page, 'events missed', (noId, withId) => noId > 3000 && withId === 0);
  await settles(page, 'events replayed after a reconnection', (noId, withId) => noId === 0 && withId > 3000);
  const [lost, resumed] = (await comparedText(page, 'event latency p50')).map(numbers);
  expect(lost[1]).toBeLessThan(20);
  expect(resumed[1]).toBeGreaterThan(1000);
  await expect(page.locator('.try-this li').nth(0).getByTestId('goal')).toContainText('✓ met');

  // 2. A quiet stream behind a 10 s idle timeout is cut again and again; a 5 s keep-alive keeps every stream open.
  await setUp(page, step(1));
  await pastSecond(page, 45);
  await settles(page, 'streams cut by the proxy', (quiet, kept) => quiet >= 1000 && kept === 0);
  await settles(page, 'keep-alive comments written', (quiet, kept) => quiet === 0 && kept >= 8);
  await expect(page.locator('.try-this li').nth(1).getByTestId('goal')).toContainText('✓ met');

  // 3. Polling every 2 s: 500 requests a second and a second's wait; a stream: milliseconds.
  await setUp(page, step(2));
  await pastSecond(page, 20);
  await settles(page, 'requests per second at the server', (polling, sse) => polling > 400 && sse < 50);
  await expect.poll(async () => {
    const [polling, sse] = (await comparedText(page, 'event latency p50')).map(numbers);
    return polling[0] > 700 && sse[1] < 20;
  }, { timeout: 30_000 }).toBe(true);
  await expect(page.locator('.try-this li').nth(2).getByTestId('goal')).toContainText('✓ met');

  // 4. Long polling: stream-fast events at thousands of requests a second.
  await setUp(page, step(3));
  await pastSecond(page, 20);
  await settles(page, 'requests per second at the server', (polling, long) => polling < 600 && long > 2000);
  expect(errors).toEqual([]);
});
