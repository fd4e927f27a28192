/**
 * Counts the AWS requests a test run sends, by test file, action and the project code that sent them
 * (the first frame under lambdas/, else under test/): how the fifth pass (docs/performance-history.md, *Fifth pass*) found
 * its repeated AssumeRole, GetItem and quota reads.
 *
 * Record (a preload in every vitest worker; each request's action from `X-Amz-Target`, a query
 * body's `Action=`, or the method and path for REST; rows in `<dir>/req-<pid>.jsonl`):
 *   mkdir -p /tmp/req && TESSERA_COUNT_REQUESTS=/tmp/req NODE_OPTIONS="--import ./test/bench/count-requests.mjs" \
 *     npx vitest run test/integration/lifecycle.test.ts
 * Summarize (totals per file, then per action, then per action and caller; `file` filters on a
 * part of the test file's path, `top` rows of the last table, default 40):
 *   node test/bench/count-requests.mjs /tmp/req [file] [top]
 * Requests the AWS SDK retries are counted once per attempt (each is a request).
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..') + '/';

/** The project frames of a stack, as `path:line function`, node_modules left out. */
function projectFrames(stack) {
  const frames = [];
  for (const line of stack.split('\n').slice(1)) {
    const at = line.indexOf(ROOT);
    if (at < 0 || line.includes('node_modules') || line.includes('count-requests.mjs')) continue;
    const [path, lineNo] = line.slice(at + ROOT.length).split(':');
    const fn = /at (?:async )?(\S+) \(/.exec(line)?.[1] ?? '';
    frames.push(`${path}:${lineNo} ${fn}`.trim());
  }
  return frames;
}

function record(dir) {
  Error.stackTraceLimit = 60;
  const rows = [];
  const flush = () => {
    if (rows.length) appendFileSync(join(dir, `req-${process.pid}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    rows.length = 0;
  };
  const end = http.ClientRequest.prototype.end;
  http.ClientRequest.prototype.end = function (chunk, ...rest) {
    try {
      const headers = this.getHeaders();
      let action = headers['x-amz-target'] ? String(headers['x-amz-target']).split('.').pop() : undefined;
      if (!action && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) action = /(?:^|&)Action=([A-Za-z0-9]+)/.exec(String(chunk).slice(0, 400))?.[1];
      action ??= `${this.method} ${this.path.split('?')[0].slice(0, 40)}`;
      const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1];
      const file = String(globalThis.__vitest_worker__?.filepath ?? '').replace(ROOT, '');
      rows.push({ file, service, action, frames: projectFrames(new Error().stack ?? '').slice(0, 8) });
      if (rows.length >= 100) flush();
    } catch {
      // counting must never change a request
    }
    return end.call(this, chunk, ...rest);
  };
  process.on('exit', flush);
  setInterval(flush, 2000).unref();
}

function summarize(dir, fileFilter, top = 40) {
  const rows = readdirSync(dir).filter((f) => /^req-\d+\.jsonl$/.test(f))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)))
    .filter((r) => !fileFilter || r.file.includes(fileFilter));
  const count = (key) => [...rows.reduce((m, r) => m.set(key(r), (m.get(key(r)) ?? 0) + 1), new Map())].sort((a, b) => b[1] - a[1]);
  const caller = (r) => r.frames.find((f) => f.startsWith('lambdas/')) ?? r.frames.find((f) => f.startsWith('test/')) ?? '?';
  console.log(`${rows.length} requests`);
  for (const [file, n] of count((r) => r.file)) console.log(`${String(n).padStart(7)} ${file}`);
  console.log('\nby action');
  for (const [action, n] of count((r) => `${r.service ?? '?'} ${r.action}`).slice(0, top)) console.log(`${String(n).padStart(7)} ${action}`);
  console.log('\nby action and caller');
  for (const [key, n] of count((r) => `${`${r.service ?? '?'} ${r.action}`.padEnd(42)} ${caller(r)}`).slice(0, top)) console.log(`${String(n).padStart(7)} ${key}`);
}

if (process.env.TESSERA_COUNT_REQUESTS) record(process.env.TESSERA_COUNT_REQUESTS);
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!process.argv[2]) throw new Error('usage: node test/bench/count-requests.mjs <dir> [file] [top]  (record with TESSERA_COUNT_REQUESTS=<dir> NODE_OPTIONS=--import ./test/bench/count-requests.mjs)');
  summarize(process.argv[2], process.argv[3], Number(process.argv[4] ?? 40));
}
