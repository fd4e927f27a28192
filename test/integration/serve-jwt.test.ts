import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `tessera serve --jwt-issuer --jwt-audience --jwks-url`: tokens of an identity provider (here a
 * local JWKS server standing in for Cognito's `/.well-known/jwks.json`) are verified as the deployed
 * authorizer does (lambdas/inference/auth.ts), and serve's own dev tokens are then refused.
 *
 * serve runs as a real process: the CLI bundled once (test/support/cli-bundle.ts: bin/tessera.mjs's
 * program without tsx's start-up cost; serve-cli.test.ts runs bin/tessera.mjs itself).
 */
const cli = await tesseraBundle();
const STACK_LINE = /^\s+at /m;
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
const POOL = 'us-east-1_Example123';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const CLIENT = 'exampleclientid0123456789';

let dir: string;
let jwksServer: Server;
let jwksUrl: string;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let privateKey: PrivateKey;
let upstream: FakeUpstream;

/** An ID token as Cognito issues it: RS256 with the published key's kid, iss, aud = client id, custom:tenant_id. */
async function idToken(claims: { tenant?: string; issuer?: string; audience?: string; key?: PrivateKey } = {}): Promise<string> {
  return new SignJWT({ 'custom:tenant_id': claims.tenant ?? 'acme', token_use: 'id', email: 'dev@acme.example.com' })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1' })
    .setIssuer(claims.issuer ?? ISSUER).setAudience(claims.audience ?? CLIENT).setSubject('user-1')
    .setIssuedAt().setExpirationTime('1h')
    .sign(claims.key ?? privateKey);
}

function serveRun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'serve', '--state-dir', dir, ...args], { cwd: dir, timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, ...NO_AWS } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = tempDir('tessera-test-serve-jwt-');
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' }] });
  jwksServer = createServer((req, res) => {
    if (req.url === `/${POOL}/.well-known/jwks.json`) res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((ok) => jwksServer.listen(0, '127.0.0.1', ok));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/${POOL}/.well-known/jwks.json`;
  upstream = await new FakeUpstream().start();
});
afterAll(async () => {
  await upstream?.stop();
  await new Promise((ok) => jwksServer?.close(ok));
});

describe('tessera serve with an identity provider\'s tokens', () => {
  it('accepts a token signed by the published key; refuses dev tokens, a wrong audience, issuer or key', async () => {
    const child = spawn(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', '0', '--tenant', 'acme:starter', '--upstream', upstream.url,
      '--jwt-issuer', ISSUER, '--jwt-audience', CLIENT, '--jwks-url', jwksUrl], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS } });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => { err += String(d); });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    try {
      await new Promise<void>((ok, fail) => {
        child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok(); });
        void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}${err}`)));
      });
      expect(out).toContain(`tokens: verified as the deployed authorizer does, against ${jwksUrl} (issuer ${ISSUER}, audience ${CLIENT}); tessera dev-token tokens are refused\n`);
      const baseURL = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/v1/.exec(out)![1]}/v1`;

      // WHEN a tenant user's ID token is the API key
      const client = new OpenAI({ baseURL, apiKey: await idToken(), maxRetries: 0 });
      const reply = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello from my first Tessera credential' }] });
      // THEN the fake upstream answered through the gateway
      expect(reply.choices[0]!.message.content).toBe('echo: Hello from my first Tessera credential');

      const status = async (token: string) => (await fetch(`${baseURL}/models`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await status(await idToken())).toBe(200);
      // serve's dev key exists (another serve could have made it); its tokens are not trusted now
      expect(await status(await mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'acme' }))).toBe(401);
      expect(await status(await idToken({ audience: 'another-client' }))).toBe(401);
      expect(await status(await idToken({ issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' }))).toBe(401);
      expect(await status(await idToken({ key: (await generateKeyPair('RS256')).privateKey }))).toBe(401);
      expect(await status(await idToken({ tenant: 'globex' }))).toBe(403); // verified, but not a tenant of this registry
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      clearTimeout(killer);
    }
    expect(err).toBe('');
  });
});

describe('tessera serve --workers 2 with an identity provider\'s tokens', () => {
  it('every worker verifies with the given settings', async () => {
    const port = await closedPort();
    const child = spawn(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', String(port), '--workers', '2', '--tenant', 'acme:starter', '--upstream', upstream.url,
      '--jwt-issuer', ISSUER, '--jwt-audience', CLIENT, '--jwks-url', jwksUrl], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_AWS } });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let out = '';
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    try {
      await new Promise<void>((ok, fail) => {
        child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) ok(); });
        void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}`)));
      });
      const token = await idToken();
      const dev = await mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'acme' });
      // several requests on fresh connections, so both workers answer some
      for (let i = 0; i < 6; i++) {
        const headers = { authorization: `Bearer ${token}`, connection: 'close' };
        expect((await fetch(`http://127.0.0.1:${port}/v1/models`, { headers })).status).toBe(200);
        expect((await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { ...headers, authorization: `Bearer ${dev}` } })).status).toBe(401);
      }
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      clearTimeout(killer);
    }
  });
});

describe.concurrent('tessera serve: polite refusals of the token flags', () => {
  it('a missing flag: exit 2, one line naming it', async () => {
    const run = await serveRun('--jwt-issuer', ISSUER, '--jwks-url', 'http://127.0.0.1:9/jwks.json');
    expect(run.stderr).toMatch(/^tessera serve: --jwt-issuer and --jwks-url without --jwt-audience: verifying your identity provider's tokens needs all three, e\.g\. /);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.stdout).toBe('');
    expect(run.code).toBe(2);
  });

  it('two missing flags: both named', async () => {
    const run = await serveRun('--jwt-audience', CLIENT);
    expect(run.stderr).toMatch(/^tessera serve: --jwt-audience without --jwt-issuer and --jwks-url: /);
    expect(run.code).toBe(2);
  });

  it('a --jwks-url that is not an http(s) URL: exit 2', async () => {
    const run = await serveRun('--jwt-issuer', ISSUER, '--jwt-audience', CLIENT, '--jwks-url', 'cognito-idp.us-east-1.amazonaws.com/x');
    expect(run.stderr).toMatch(/^tessera serve: --jwks-url cognito-idp\.us-east-1\.amazonaws\.com\/x: expected the http\(s\) URL of a JSON Web Key Set/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.code).toBe(2);
  });

  it('a --jwks-url that cannot be read, or is no JWKS: exit 1 at start, one line', async () => {
    const closed = await closedPort();
    const refused = await serveRun('--jwt-issuer', ISSUER, '--jwt-audience', CLIENT, '--jwks-url', `http://127.0.0.1:${closed}/jwks.json`);
    expect(refused.stderr).toMatch(new RegExp(`^tessera serve: --jwks-url http://127\\.0\\.0\\.1:${closed}/jwks\\.json: cannot read it \\(ECONNREFUSED\\); check the URL`));
    expect(refused.stderr).not.toMatch(STACK_LINE);
    expect(refused.code).toBe(1);
    const notFound = await serveRun('--jwt-issuer', ISSUER, '--jwt-audience', CLIENT, '--jwks-url', jwksUrl.replace(POOL, 'us-east-1_Nope'));
    expect(notFound.stderr).toMatch(/: answered 404 without a JSON Web Key Set/);
    expect(notFound.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(notFound.code).toBe(1);
  });
});

/** A port nothing listens on (taken, then freed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  const { port } = probe.address() as AddressInfo;
  await new Promise((ok) => probe.close(ok));
  return port;
}
