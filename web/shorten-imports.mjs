// Shortens the names by which the page's wasm imports its JavaScript glue.
//
// wasm-bindgen names each import after the function it binds plus a 16-digit hash
// (`__wbg_setAttribute_2704501201f15687`), under a module named after the glue file; the
// wasm lists each name once and the glue once more. Random hex does not compress: the
// names were about 5 KB of the gzipped page. Here every import gets a short name (`$0`,
// `$1`, ...), the same in the wasm's import section and in the glue, and the module
// becomes `w`. Nothing else changes, so the page behaves exactly as before.
//
// Usage: node web/shorten-imports.mjs [DIR]. DIR (or Trunk's $TRUNK_STAGING_DIR, when run
// as its post-build hook) holds one `*_bg.wasm`, its glue `*.js` and, from Trunk, the
// `index.html` whose integrity hashes are written anew for the files changed.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('shorten-imports: give a directory (or run as a Trunk hook)');
const files = readdirSync(dir);
const one = (what, test) => {
  const found = files.filter(test);
  if (found.length !== 1) throw new Error(`shorten-imports: expected one ${what} in ${dir}, found ${found.length}`);
  return join(dir, found[0]);
};
const wasmPath = one('*_bg.wasm', (f) => f.endsWith('_bg.wasm'));
const jsPath = one('glue *.js', (f) => f.endsWith('.js') && !f.endsWith('.min.js'));

function readLeb(bytes, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}
function leb(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}
const utf8 = new TextDecoder();
const name = (s) => { const b = Buffer.from(s, 'utf8'); return [...leb(b.length), ...b]; };

const wasm = readFileSync(wasmPath);
if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`shorten-imports: ${wasmPath} is not WebAssembly`);
const out = [wasm.subarray(0, 8)];
const renamed = new Map();
let glueModule = null;
for (let at = 8; at < wasm.length;) {
  const id = wasm[at];
  const [size, body] = readLeb(wasm, at + 1);
  const end = body + size;
  if (id !== 2) {
    out.push(wasm.subarray(at, end));
    at = end;
    continue;
  }
  // The import section: (module, field, kind, description) for each import.
  let [count, p] = readLeb(wasm, body);
  const entries = [];
  for (let i = 0; i < count; i++) {
    let len;
    [len, p] = readLeb(wasm, p);
    const module = utf8.decode(wasm.subarray(p, p + len));
    p += len;
    [len, p] = readLeb(wasm, p);
    const field = utf8.decode(wasm.subarray(p, p + len));
    p += len;
    const start = p;
    const kind = wasm[p++];
    if (kind === 0) [, p] = readLeb(wasm, p); // function: type index
    else if (kind === 1) { p++; const flags = wasm[p++]; [, p] = readLeb(wasm, p); if (flags & 1) [, p] = readLeb(wasm, p); } // table
    else if (kind === 2) { const flags = wasm[p++]; [, p] = readLeb(wasm, p); if (flags & 1) [, p] = readLeb(wasm, p); } // memory
    else if (kind === 3) p += 2; // global: value type, mutability
    else throw new Error(`shorten-imports: import kind ${kind} of ${module}.${field} is not known here`);
    entries.push({ module, field, desc: wasm.subarray(start, p) });
  }
  if (p !== end) throw new Error('shorten-imports: the import section did not parse to its end');
  glueModule = entries.find((e) => e.module.endsWith('_bg.js'))?.module ?? null;
  const section = [...leb(count)];
  for (const e of entries) {
    let { module, field } = e;
    if (module === glueModule) {
      if (!renamed.has(field)) renamed.set(field, `$${renamed.size.toString(36)}`);
      module = 'w';
      field = renamed.get(field);
    }
    section.push(...name(module), ...name(field), ...e.desc);
  }
  out.push(Buffer.from([2, ...leb(section.length), ...section]));
  at = end;
}
if (!glueModule) {
  console.log('shorten-imports: no glue imports found (already shortened?); nothing to do');
  process.exit(0);
}

let js = readFileSync(jsPath, 'utf8');
const quoted = new RegExp(`(["'])${glueModule.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\1`, 'g');
const modules = js.match(quoted)?.length ?? 0;
if (modules !== 1) throw new Error(`shorten-imports: the glue names its module ${modules} times, expected once`);
js = js.replace(quoted, '"w"');
for (const [from, to] of renamed) {
  const word = new RegExp(`\\b${from}\\b`, 'g');
  const n = js.match(word)?.length ?? 0;
  if (n !== 1) throw new Error(`shorten-imports: the glue names the import ${from} ${n} times, expected once`);
  js = js.replace(word, () => to);
}
const wasmOut = Buffer.concat(out);
writeFileSync(wasmPath, wasmOut);
writeFileSync(jsPath, js);

// Trunk's index.html carries subresource-integrity hashes of the files it links.
const htmlPath = join(dir, 'index.html');
if (files.includes('index.html')) {
  let html = readFileSync(htmlPath, 'utf8');
  html = html.replace(/<link\b[^>]*>/g, (tag) => {
    const href = tag.match(/href=["']?([^"' >]+)/)?.[1];
    if (!href || !/integrity=/.test(tag)) return tag;
    const file = join(dir, href.replace(/^.*\//, ''));
    const digest = createHash('sha384').update(readFileSync(file)).digest('base64');
    return tag.replace(/sha384-[A-Za-z0-9+/=]+/, `sha384-${digest}`);
  });
  writeFileSync(htmlPath, html);
}
console.log(`shorten-imports: ${renamed.size} imports renamed; wasm ${wasm.length} -> ${wasmOut.length} B`);
