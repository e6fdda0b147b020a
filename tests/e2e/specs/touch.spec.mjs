import { test, expect } from '@playwright/test';

test('on a 360 px phone every control is a target of at least 44 px each way', async ({ page }, info) => {
  await page.setViewportSize({ width: 360, height: 740 });
  // With a schedule, so that the timeline has marks.
  await page.goto('./?p=circuit-breaker&fault=10s+hang+b&fault=20s+revive+b');
  await expect(page.locator('.timeline .mark')).toHaveCount(2);
  await expect(page.locator('canvas.stage')).toBeVisible();
  const small = await page.evaluate(() => {
    const targets = document.querySelectorAll('button, select, input, a[href]');
    const out = [];
    for (const el of targets) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not shown
      if (r.width < 44 || r.height < 44) out.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || el.id || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return out;
  });
  expect(small).toEqual([]);
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(360);
  await page.screenshot({ path: info.outputPath('touch-360.png'), fullPage: false });
});
