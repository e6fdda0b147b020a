import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

/** The playable scenes, as the catalogue lists them. */
async function scenes(page) {
  await page.goto('./');
  return page.getByRole('navigation', { name: 'Patterns' }).getByRole('link').evaluateAll((links) => links.map((a) => new URL(a.href).searchParams.get('p')).filter(Boolean));
}

for (const scheme of ['dark', 'light']) {
  test(`axe finds no serious or critical violation on any scene (${scheme} theme)`, async ({ page }) => {
    test.setTimeout(180_000);
    await page.emulateMedia({ colorScheme: scheme });
    const ids = await scenes(page);
    expect(ids.length).toBeGreaterThanOrEqual(20);
    const found = [];
    for (const id of ids) {
      await page.goto(`./?p=${id}&fault=5s+heal&t=6s`);
      await expect(page.getByTestId('playhead')).toHaveText('6.00 s', { timeout: 20_000 });
      // The panels that open on demand are checked open.
      await page.getByText('Space-time diagram').click();
      await expect(page.getByTestId('diagram').locator('svg')).toBeVisible();
      const result = await new AxeBuilder({ page }).analyze();
      for (const v of result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
        found.push(`${id}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
      }
    }
    expect(found).toEqual([]);
  });
}
