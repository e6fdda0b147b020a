// A static server for dist/ on loopback, started and stopped by Playwright. It serves the
// app under a sub-path (/sub/clusterlab/) to prove dist/ works from any folder of any host,
// and under /host/ the pages that embed it.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const root = process.env.CLUSTERLAB_DIST;
const port = Number(process.env.PORT || 4173);
const prefix = '/sub/clusterlab/';
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };

// Host pages that embed the app, as a blog would (tests/e2e/host/), under /host/.
const hostPrefix = '/host/';
const hostRoot = new URL('./host/', import.meta.url).pathname;

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const [base, dir] = url.pathname.startsWith(hostPrefix) ? [hostPrefix, hostRoot] : [prefix, root];
  if (!url.pathname.startsWith(base)) {
    res.writeHead(404).end('not under ' + prefix);
    return;
  }
  const rel = normalize(decodeURIComponent(url.pathname.slice(base.length)) || 'index.html');
  if (rel.startsWith('..')) {
    res.writeHead(403).end();
    return;
  }
  const file = join(dir, rel);
  try {
    const s = await stat(file);
    const path = s.isDirectory() ? join(file, 'index.html') : file;
    const body = await readFile(path);
    res.writeHead(200, { 'content-type': types[extname(path)] || 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
}).listen(port, '127.0.0.1', () => console.log(`serving ${root} at http://127.0.0.1:${port}${prefix}`));
