#!/usr/bin/env node
// The initial JavaScript budget: what index.html loads before any screen (the entry module and
// the chunks it preloads), gzipped, must stay within 150 KB. Screens, dictionaries and styles
// are lazy chunks and do not count. A size check, not a timing one: it may fail the build.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET = 150 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const html = readFileSync(join(dist, "index.html"), "utf8");
const base = "/app/";
const urls = new Set();
for (const match of html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g)) urls.add(match[1]);
for (const match of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)) urls.add(match[1]);
if (urls.size === 0) {
  console.error("size: no entry script found in dist/index.html");
  process.exit(1);
}
let total = 0;
for (const url of urls) {
  const path = join(dist, url.startsWith(base) ? url.slice(base.length) : url);
  const gz = gzipSync(readFileSync(path), { level: 9 }).length;
  total += gz;
  console.log(`initial  ${url}  ${(gz / 1024).toFixed(1)} KB gzip`);
}
const verdict = total <= BUDGET ? "within" : "OVER";
console.log(`initial JavaScript: ${(total / 1024).toFixed(1)} KB gzip, ${verdict} the ${BUDGET / 1024} KB budget`);
process.exit(total <= BUDGET ? 0 : 1);
