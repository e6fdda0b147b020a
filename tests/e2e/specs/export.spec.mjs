import { test, expect } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { until, watchErrors } from './helpers.mjs';

/** Clicks `name` and returns the download it starts: [file name, bytes]. */
async function download(page, name, timeout = 30_000) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout }), page.getByRole('button', { name, exact: true }).click()]);
  return [dl.suggestedFilename(), await readFile(await dl.path())];
}

test('the run downloads as report, chart data, picture and clip, each named by scene, seed and time', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('./?p=circuit-breaker&seed=7&speed=4&fault=2s+hang+b');
  await until(page, (c) => c.completed > 200);
  const named = (ext) => new RegExp(`^clusterlab-circuit-breaker-seed7-\\d+\\.\\ds\\.${ext}$`);

  const [jsonName, json] = await download(page, 'Report');
  expect(jsonName).toMatch(named('json'));
  expect(JSON.parse(json.toString()).pattern).toBe('circuit-breaker');

  const [csvName, csv] = await download(page, 'CSV');
  expect(csvName).toMatch(named('csv'));
  const lines = csv.toString().trim().split('\n');
  expect(lines[0]).toMatch(/^t_s,offered_rps,throughput_rps,errors_rps,p50_ms,p95_ms,p99_ms,fail_p50_ms,fail_p99_ms,a_workers_busy/);
  expect(lines.length).toBeGreaterThan(3);
  const cells = lines[1].split(',');
  expect(cells.length).toBe(lines[0].split(',').length);
  expect(Number(cells[0])).toBeGreaterThan(0);

  const [pngName, png] = await download(page, 'PNG');
  expect(pngName).toMatch(named('png'));
  expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  // At the screen's pixel ratio: the picture is as wide as the stage in device pixels.
  const stageWidth = await page.evaluate(() => document.querySelector('canvas.stage').width);
  expect(png.readUInt32BE(16)).toBe(stageWidth);

  const [clipName, clip] = await download(page, 'Clip');
  expect(clipName).toMatch(named('webm'));
  expect([...clip.subarray(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
  expect(clip.length).toBeGreaterThan(1000);
  await expect(page.getByRole('button', { name: 'Clip', exact: true })).toBeEnabled();
  expect(errors).toEqual([]);
});
