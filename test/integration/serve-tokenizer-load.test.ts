import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `tessera serve` loaded the o200k tokenizer (token-count.ts: 2.4 MB of ranks and their lookup table) as it built its
 * gateway, as a Lambda does during init: about half of the CPU of every start, and of each `--workers` thread, whether
 * or not a request then counted tokens. serve now loads it with the first request that counts tokens
 * (GatewayDeps.loadTokenizer 'first-count'; the counting endpoints await it, so the counts are the same).
 *
 * A real serve process (the CLI bundled: test/support/cli-bundle.ts) with a preload that prints, at exit, whether the
 * process loaded the ranks module of gpt-tokenizer.
 */
const COUNT_RANKS = join(import.meta.dirname, 'support', 'count-ranks-module.mjs');
const cli = await tesseraBundle();
/** No AWS credentials whatever this machine has (serve then looks for none further: no instance metadata). */
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };

/** Starts serve (tenant acme, the upstream a closed port), runs `requests` against it, stops it (SIGTERM): its exit code and stderr. */
async function serveThen(requests: (base: string, token: string) => Promise<void>): Promise<{ code: number | null; stderr: string }> {
  const state = tempDir('tessera-test-serve-tokenizer-');
  const child = spawn(process.execPath, ['--import', COUNT_RANKS, cli, 'serve', '--state-dir', state, '--port', '0', '--tenant', 'acme:starter', '--upstream', 'http://127.0.0.1:9/v1'],
    { cwd: state, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += String(d); });
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  try {
    await new Promise<void>((ok, fail) => {
      child.stdout.on('data', (d) => { out += String(d); if (/^providers:/m.test(out)) ok(); });
      void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}${err}`)));
    });
    const base = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]}/v1`;
    await requests(base, await mintDevToken(join(state, 'dev-keys.json'), { tenantId: 'acme' }));
  } finally {
    child.kill('SIGTERM');
  }
  return { code: await exited, stderr: err };
}

describe('tessera serve loads the tokenizer with the first request that counts tokens', () => {
  it('a serve that answers GET /v1/models and stops never loads the o200k ranks; one that answers a chat completion does (the control)', async () => {
    const listing = await serveThen(async (base, token) => {
      const res = await fetch(`${base}/models`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    });
    expect(listing.code).toBe(0);
    expect(listing.stderr).toContain('o200k ranks loaded: 0\n');

    const chat = await serveThen(async (base, token) => {
      // Counted before the upstream is called (a closed port here: 502).
      const res = await fetch(`${base}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }) });
      expect(res.status, await res.text()).toBe(502);
    });
    expect(chat.code).toBe(0);
    expect(chat.stderr).toContain('o200k ranks loaded: 1\n');
  }, 120_000);
});
