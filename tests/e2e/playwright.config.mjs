import { defineConfig } from '@playwright/test';

if (!process.env.CLUSTERLAB_DIST) {
  throw new Error('CLUSTERLAB_DIST must name the built dist/ folder (cargo xtask test sets it)');
}

export default defineConfig({
  testDir: './specs',
  outputDir: './test-results',
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:4173/sub/clusterlab/',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    command: 'node serve.mjs',
    url: 'http://127.0.0.1:4173/sub/clusterlab/',
    reuseExistingServer: false,
    env: { CLUSTERLAB_DIST: process.env.CLUSTERLAB_DIST, PORT: '4173' },
  },
});
