import { test, expect } from '@playwright/test';
import { act, counts, until, watchErrors } from './helpers.mjs';

test('plays, and the measures move', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=2');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Load balancing');
  await until(page, (c) => c.completed > 1000);
  const first = await counts(page);
  await until(page, (c) => c.completed > first.completed + 1000);
  await expect(page.getByTestId('latency')).toHaveText(/p99 [1-9]/);
  await expect(page.locator('canvas.stage')).toHaveAttribute('data-frame-p95', /\d/);
  await page.screenshot({ path: info.outputPath('load-balancing.png') });
  expect(errors).toEqual([]);
});

test('killing a server without health checks fails its share of requests', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&speed=2');
  await until(page, (c) => c.sent > 500);
  await act(page, 'server-2', 'Kill');
  await expect(page).toHaveURL(/fault=\d+us\+kill\+server-2|fault=\d+ms\+kill\+server-2|fault=\d+s\+kill\+server-2/);
  await expect(page.locator('.node-strip .chip.dead')).toHaveText('server-2');
  await until(page, (c) => c.failed > 300);
  await page.screenshot({ path: info.outputPath('dead-server-no-health-checks.png') });
  expect(errors).toEqual([]);
});

test('with health checks the balancer routes around a dead server', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&health_checks=on&speed=2');
  await until(page, (c) => c.sent > 500);
  await act(page, 'server-2', 'Kill');
  // Detection takes at most one health interval (1 s virtual); then nothing fails.
  await page.waitForTimeout(2500);
  const before = await counts(page);
  await page.waitForTimeout(2000);
  const after = await counts(page);
  expect(after.completed).toBeGreaterThan(before.completed + 1000);
  expect(after.failed).toBe(before.failed);
  expect(errors).toEqual([]);
});

test('a knob change lands in the URL and a reload restores it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing');
  await until(page, (c) => c.sent > 0);
  // policy can change as the run plays: it joins the schedule at the current instant.
  await page.locator('#knob-policy').selectOption('random');
  await expect(page).toHaveURL(/fault=\d+us\+set\+policy%3Drandom/);
  // service_time cannot: the run starts again with it, and the page says so.
  await page.locator('#knob-service_time').fill('exp:2ms');
  await page.locator('#knob-service_time').press('Enter');
  await page.locator('#knob-service_time').blur();
  await expect(page).toHaveURL(/service_time=exp%3A2ms/);
  await expect(page.locator('.notices')).toContainText('service_time cannot change while a run plays');
  await page.locator('.controls input.seed').fill('42');
  await page.locator('.controls input.seed').blur();
  await expect(page).toHaveURL(/seed=42/);
  await page.reload();
  await expect(page.locator('#knob-policy')).toHaveValue('random');
  await expect(page.locator('#knob-service_time')).toHaveValue('exp:2ms');
  await expect(page.locator('.controls input.seed')).toHaveValue('42');
  expect(errors).toEqual([]);
});

test('a bad value typed into a knob is refused, named, and changes nothing', async ({ page }) => {
  await page.goto('./?p=load-balancing&policy=random');
  const url = page.url();
  await page.locator('#knob-service_time').fill('exp:');
  await page.locator('#knob-service_time').blur();
  const error = (knob) => page.locator('.knob', { has: page.locator(`#knob-${knob}`) }).locator('.knob-error');
  await expect(error('service_time')).toContainText("knob 'service_time': 'exp:'");
  await page.locator('#knob-servers').fill('99');
  await page.locator('#knob-servers').blur();
  await expect(error('servers')).toContainText('1 to 64');
  await expect(page.locator('#knob-policy')).toHaveValue('random');
  expect(page.url()).toBe(url);
  await until(page, (c) => c.completed > 100);
});

test('a bad URL shows a notice naming each bad setting and keeps the rest', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&servers=99&policy=random&seed=abc&fault=3s+explode+lb&colour=blue');
  const notices = page.locator('.notices');
  for (const name of ['servers', 'seed', 'explode', 'colour']) {
    await expect(notices).toContainText(name);
  }
  await expect(page.locator('#knob-policy')).toHaveValue('random');
  await expect(page.locator('#knob-servers')).toHaveValue('4');
  await until(page, (c) => c.completed > 100);
  await page.screenshot({ path: info.outputPath('bad-url-notice.png') });
  expect(errors).toEqual([]);
});

test('an unknown scene falls back with a notice, never a blank page', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=warp-drive');
  await expect(page.locator('.notices')).toContainText('warp-drive');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Load balancing');
  expect(errors).toEqual([]);
});

test('the node menu works from the keyboard', async ({ page }) => {
  await page.goto('./?p=load-balancing');
  await page.locator('.node-strip').getByRole('button', { name: 'server-3', exact: true }).focus();
  await expect(page.locator('.node-detail')).toContainText('server-3 (server)');
  await page.keyboard.press('Enter');
  const menu = page.getByRole('dialog', { name: 'Actions on server-3' });
  await expect(menu.getByRole('button', { name: 'Kill' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
});

test('compare view: the same traffic through two policies, side by side', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('./?p=load-balancing&server_speeds=1,1,1,0.25&arrival_rate=2400&speed=2&vs=policy:power-of-two');
  await expect(page.locator('canvas.stage')).toHaveCount(2);
  const table = page.getByTestId('compare');
  const row = async (name) => (await table.locator('tr', { hasText: name }).locator('td').allTextContents()).map((t) => parseFloat(t));
  await expect.poll(async () => (await row('virtual time'))[0], { timeout: 20_000 }).toBeGreaterThan(4);
  const [sentA, sentB] = await row('sent');
  expect(sentA).toBe(sentB); // one seed, one traffic, the same instant
  const [p99A, p99B] = await row('p99');
  expect(p99A).toBeGreaterThan(5 * p99B); // round robin drowns the slow server; power of two does not
  await page.screenshot({ path: info.outputPath('compare.png') });
  expect(errors).toEqual([]);
});

test('the compare panel sets up a comparison, and refuses a bad one', async ({ page }) => {
  await page.goto('./?p=load-balancing');
  const panel = page.getByRole('region', { name: 'Compare' });
  await panel.getByLabel('Knob to change').selectOption('policy');
  await panel.getByLabel('Value for the compared run').fill('fastest');
  await panel.getByRole('button', { name: 'Compare' }).click();
  await expect(panel.getByRole('alert')).toContainText("'fastest'");
  await expect(page.locator('canvas.stage')).toHaveCount(1);
  await panel.getByLabel('Value for the compared run').fill('random');
  await panel.getByRole('button', { name: 'Compare' }).click();
  await expect(page).toHaveURL(/vs=policy%3Arandom/);
  await expect(page.locator('canvas.stage')).toHaveCount(2);
  await panel.getByRole('button', { name: 'Stop comparing' }).click();
  await expect(page.locator('canvas.stage')).toHaveCount(1);
  await expect(page).not.toHaveURL(/vs=/);
});
