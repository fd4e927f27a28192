import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflightBundle, tesseraBundle } from '../../support/cli-bundle.js';
import { tempDir } from '../../support/temp-dirs.js';
import { expectPolite } from '../../support/polite-cli.js';

/**
 * Every `tessera` command (and `npm run preflight`) fails politely, run as a user runs it
 * (`node bin/tessera.mjs ...`): one line (or a short list) on stderr naming the flag, file or value
 * and the fix, no `    at ` stack lines unless --debug, exit 2 for usage/config errors and 1 for
 * runtime ones. The admin API's failures are real ones on 127.0.0.1: a closed port, a server with a
 * self-signed certificate, one whose certificate names another host, an unresolvable `.invalid`
 * host; API Gateway's own 403s come from a local server answering as API Gateway documents them
 * (no API Gateway runs here; moto's does not evaluate IAM authorization).
 *
 * Each run is a real process: `node <bundle>` (test/support/cli-bundle.ts: the same program
 * without tsx's start-up cost), and the runs marked `viaBin` through bin/tessera.mjs itself (the
 * entry point a user runs, with its tsx registration and Node version check).
 */
const root = join(import.meta.dirname, '..', '..', '..');
const bin = join(root, 'bin', 'tessera.mjs');
const bundle = await tesseraBundle();
const preflightCli = await preflightBundle();
const STACK_LINE = /^\s+at /m;
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };
// No credentials at all: none in the environment, no profile files, no instance metadata.
const NO_CREDENTIALS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONTAINER_CREDENTIALS_FULL_URI: '', AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '', AWS_WEB_IDENTITY_TOKEN_FILE: '' };

interface Run { code: number; stdout: string; stderr: string }
let dir: string;
const servers: Server[] = [];

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: dir, timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, TESSERA_API_URL: '', AWS_EC2_METADATA_DISABLED: 'true', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}
const tessera = (args: string[], env: Record<string, string> = CREDENTIALS) => run(process.execPath, [bundle, ...args], env);
/** The same run through bin/tessera.mjs, as `npx tessera` starts it. */
const viaBin = (args: string[], env: Record<string, string> = CREDENTIALS) => run(process.execPath, [bin, ...args], env);
/** `npm run preflight -- <args>` (`tsx lib/preflight/cli.ts`), bundled. */
const preflight = (...args: string[]) => run(process.execPath, [preflightCli, ...args]);
/** The same through tsx, as `npm run preflight` runs it. */
const preflightViaTsx = (...args: string[]) => run(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'lib', 'preflight', 'cli.ts'), ...args]);


async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((ok) => server.listen({ port: 0, host: '127.0.0.1' }, ok));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A self-signed certificate for `name` (openssl; node:crypto makes keys, not X.509 certificates). */
function certificate(name: string): { key: string; cert: string; certFile: string } {
  const key = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name}`, '-keyout', key, '-out', certFile], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** A server answering every request as API Gateway answers a refused one. */
const gatewayAnswer = (status: number, body: string, errorType?: string) => createHttpServer((_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) }).end(body);
});

let refusedUrl: string;
let selfSignedUrl: string;
let otherHostUrl: string;
let otherHostCa: string;
let deniedUrl: string;
let noSuchPathUrl: string;
let notJsonUrl: string;

beforeAll(async () => {
  dir = tempDir('tessera-test-cli-failures-');
  const closed = createHttpServer();
  const closedHost = await listen(closed);
  await new Promise((ok) => closed.close(ok));
  servers.pop();
  refusedUrl = `http://${closedHost}/prod`;
  const selfSigned = certificate('localhost');
  selfSignedUrl = `https://${await listen(createHttpsServer({ key: selfSigned.key, cert: selfSigned.cert }, (_q, r) => r.end('{}')))}/prod`;
  const other = certificate('admin.other.example');
  otherHostCa = other.certFile;
  otherHostUrl = `https://${await listen(createHttpsServer({ key: other.key, cert: other.cert }, (_q, r) => r.end('{}')))}/prod`;
  deniedUrl = `http://${await listen(gatewayAnswer(403, JSON.stringify({ Message: 'User: arn:aws:sts::111111111111:assumed-role/Dev/me is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:222222222222:abc123/prod/GET/admin/tenants' }), 'AccessDeniedException'))}/prod`;
  noSuchPathUrl = `http://${await listen(gatewayAnswer(403, JSON.stringify({ message: 'Missing Authentication Token' }), 'MissingAuthenticationTokenException'))}`;
  notJsonUrl = `http://${await listen(createHttpServer((_q, r) => r.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>')))}/prod`;
}, 60_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
});

describe.concurrent('tessera tenants: an admin API it cannot use', () => {
  it('DNS: an unresolvable host names the host, the flag and the stack output', async () => {
    expectPolite(await tessera(['tenants', 'list', '--api-url', 'https://admin.tessera.invalid/prod']), 1,
      /^error: cannot reach the admin API at https:\/\/admin\.tessera\.invalid\/prod: DNS cannot resolve admin\.tessera\.invalid \((ENOTFOUND|EAI_AGAIN)\); check --api-url \/ TESSERA_API_URL \(the AdminApiUrl output of the TesseraPlatform stack\)/);
  });

  it('the connection: a closed port says the connection failed', async () => {
    expectPolite(await tessera(['tenants', 'list', '--api-url', refusedUrl]), 1,
      new RegExp(`^error: cannot reach the admin API at ${refusedUrl}: the connection to .* failed \\(ECONNREFUSED\\); check --api-url`));
  });

  it('TLS: a self-signed certificate says TLS failed and how to trust a proxy', async () => {
    expectPolite(await tessera(['tenants', 'show', 'acme', '--api-url', selfSignedUrl]), 1,
      /^error: cannot reach the admin API at https:\/\/127\.0\.0\.1:\d+\/prod: TLS failed, the server's certificate is not trusted for 127\.0\.0\.1:\d+ \(DEPTH_ZERO_SELF_SIGNED_CERT\);.*NODE_EXTRA_CA_CERTS/);
  });

  it('TLS: a trusted certificate of another host says so (hostname mismatch)', async () => {
    expectPolite(await tessera(['tenants', 'list', '--api-url', otherHostUrl], { ...CREDENTIALS, NODE_EXTRA_CA_CERTS: otherHostCa }), 1,
      /^error: cannot reach the admin API at .*: TLS failed, the server's certificate is not trusted for 127\.0\.0\.1:\d+ \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
  });

  it('no credentials: one line naming how to give them', async () => {
    expectPolite(await tessera(['tenants', 'list', '--api-url', refusedUrl], { ...NO_CREDENTIALS, HOME: dir, AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') }), 1,
      /^error: no AWS credentials found to sign the admin API call \(SigV4\): set AWS_PROFILE .* or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('API Gateway\'s 403 for a caller without execute-api:Invoke names the policy to attach', async () => {
    expectPolite(await tessera(['tenants', 'list', '--api-url', deniedUrl]), 1,
      /^error: the admin API at .* refused your AWS identity \(403 from API Gateway\): it needs execute-api:Invoke on the admin API; sign in with the TesseraPlatformAdmin permission set .*TesseraPlatformAdminAccess .* \(AccessDenied\)$/m);
  });

  it('API Gateway\'s 403 Missing Authentication Token: a URL without the stage (exit 2)', async () => {
    expectPolite(await tessera(['tenants', 'list', '--api-url', noSuchPathUrl]), 2, /^error: API Gateway at .* has no such resource \(403 Missing Authentication Token\): the URL lacks the stage/);
  });

  it('an answer that is not JSON: names the URL and the flag', async () => {
    expectPolite(await tessera(['tenants', 'list', '--api-url', notJsonUrl]), 1, /^error: the admin API at .* answered 502 with a body that is not JSON \(<html><body>Bad Gateway.*check --api-url/);
  });

  it('no URL at all, or not a URL: exit 2, names the flag, the variable and the stack output', async () => {
    expectPolite(await viaBin(['tenants', 'list']), 2, /^error: no admin API URL: pass --api-url or set TESSERA_API_URL \(the AdminApiUrl output of the TesseraPlatform stack\)$/m);
    expectPolite(await tessera(['tenants', 'list', '--api-url', 'abc123.execute-api.us-east-1.amazonaws.com']), 2, /^error: --api-url abc123\.execute-api\.us-east-1\.amazonaws\.com: expected an https URL/);
  });

  it('--debug adds the stack trace', async () => {
    const r = await tessera(['--debug', 'tenants', 'list', '--api-url', refusedUrl]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot reach the admin API/);
    expect(r.stderr).toMatch(STACK_LINE);
  });
});

describe.concurrent('tessera: usage errors in house style (exit 2, one line and the help pointer)', () => {
  it('an unknown option names the nearest known one', async () => {
    expectPolite(await tessera(['tenants', 'list', '--stauts', 'ACTIVE']), 2, /^error: unknown option '--stauts' \(Did you mean --status\?\)\n {2}see `tessera tenants list --help` for the options$/m, 2);
  });

  it('an unknown command names the nearest known one', async () => {
    expectPolite(await tessera(['tenant', 'list']), 2, /^error: unknown command 'tenant' \(Did you mean tenants\?\)\n {2}see `tessera --help` for the options$/m, 2);
  });

  it('every missing required option at once', async () => {
    expectPolite(await tessera(['tenants', 'create', '--id', 'acme']), 2,
      /^error: tessera tenants create needs the options --name <name>, --tier <tier>, --admin-email <email>\n {2}see `tessera tenants create --help`/, 2);
  });

  it('one missing required option is named with what it is, from its help (the flag alone did not say which file failover-plan wants)', async () => {
    expectPolite(await tessera(['tenants', 'failover-plan', 'acme']), 2,
      /^error: tessera tenants failover-plan needs the option --config <file>: the Tessera config file the platform was deployed with \(the tiers' disasterRecovery, the platform account; refused while it keeps placeholders\)\n {2}see `tessera tenants failover-plan --help` for the options$/m, 2);
    expectPolite(await tessera(['keys', 'list']), 2, /^error: tessera keys list needs the option --tenant <id>: the tenant\n {2}see `tessera keys list --help`/m, 2);
  });

  it('a misspelt required option is named as unknown, with the nearest flag, not reported as missing', async () => {
    // commander checks required options first: it said "needs the option --tenant <id>" and never named --tenat.
    expectPolite(await tessera(['dev-token', '--tenat', 'acme']), 2, /^error: unknown option '--tenat' \(Did you mean --tenant\?\)\n {2}see `tessera dev-token --help` for the options$/m, 2);
    expectPolite(await tessera(['tenants', 'create', '--id', 'acme', '--tier', 'starter', '--nmae', 'Acme', '--admin-email', 'a@acme.example']), 2,
      /^error: unknown option '--nmae' \(Did you mean --name\?\)\n {2}see `tessera tenants create --help`/, 2);
  });

  it('tenants create refuses a bad --id, --admin-email or --request-id before calling the admin API', async () => {
    // The API's own schema (OnboardRequest) runs first: the request used to be sent, so an unreachable API hid the typo (exit 1).
    const create = (...flags: string[]) => tessera(['tenants', 'create', '--api-url', refusedUrl, '--name', 'Acme', '--tier', 'starter', ...flags]);
    expectPolite(await create('--id', 'Acme', '--admin-email', 'admin@acme.example'), 2, /^error: --id "Acme": must be a lower-case DNS label of 3-24 characters/, 1);
    expectPolite(await create('--id', 'acme', '--admin-email', 'nope', '--request-id', 'x y'), 2,
      /^error: 2 problems with the flags of tessera tenants create:\n {2}- --admin-email "nope": .*\n {2}- --request-id "x y": /, 3);
    // Good flags still go to the API (here: a closed port, exit 1).
    expect((await create('--id', 'acme', '--admin-email', 'admin@acme.example')).code).toBe(1);
  });

  it('a tenant id argument that cannot be one is refused before calling the admin API, on every command on one tenant', async () => {
    // It used to be sent: the API answered 400 or 404, or an unreachable API hid the typo (exit 1).
    const rule = /^error: command-argument value '(.*)' is invalid for argument 'id'\. Expected a tenant id: a lower-case DNS label of 3-24 characters/;
    for (const args of [['show', 'Acme'], ['usage', 'acme_corp'], ['watch', 'ab'], ['drift', 'Foo'], ['suspend', 'acme-'], ['delete', 'ACME', '--yes'], ['update', 'a--b', '--tier', 'starter']]) {
      expectPolite(await tessera(['tenants', ...args, '--api-url', refusedUrl]), 2, rule, 2);
    }
    // A well-formed id still goes to the API (here: a closed port, exit 1).
    expect((await tessera(['tenants', 'show', 'acme', '--api-url', refusedUrl])).code).toBe(1);
  });

  it('a missing argument, a bad choice, a bad number', async () => {
    expectPolite(await tessera(['tenants', 'show']), 2, /^error: missing required argument 'id'\n {2}see `tessera tenants show --help`/, 2);
    expectPolite(await tessera(['tenants', 'list', '--status', 'active']), 2, /^error: option '--status <status>' argument 'active' is invalid\. Allowed choices are REQUESTED, .*ACTIVE/, 2);
    expectPolite(await tessera(['tenants', 'watch', 'acme', '--interval', 'soon']), 2, /^error: option '--interval <seconds>' argument 'soon' is invalid\. Expected a number of seconds from 0\.1 to 300\./, 2);
  });

  it('tenants update with nothing to change, tenants delete without --yes', async () => {
    expectPolite(await tessera(['tenants', 'update', 'acme', '--api-url', refusedUrl]), 2, /^error: tessera tenants update acme: nothing to change; give --tier <tier> or --blueprint-version <version>/);
    expectPolite(await tessera(['tenants', 'delete', 'acme', '--api-url', refusedUrl]), 2, /^error: offboarding acme cannot be undone after the key deletion window: repeat with --yes$/m);
    // refused before any call (the admin API would answer 400 invalid_idempotency_key)
    expectPolite(await tessera(['tenants', 'update', 'acme', '--tier', 'business', '--request-id', 'bad key', '--api-url', refusedUrl]), 2, /^error: --request-id = "bad key": must be 1-80 printable ASCII characters without spaces/);
  });

  it('help still exits 0', async () => {
    const r = await viaBin(['tenants', 'list', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: tessera tenants list/);
  });

  // Found by the day-2 walk-through (s18): `tessera tenants upgrade --help` printed the tenants group's help and exited 0,
  // never saying that upgrade was no command. It is one now (the rolling upgrade through the admin API), so a
  // misspelt subcommand stands in for it; `tenants upgrade --help` is its own help now.
  it('the help of a subcommand that does not exist is refused as the unknown command it is, naming the nearest', async () => {
    expectPolite(await tessera(['tenants', 'upgade', '--help']), 2, /^error: unknown command 'upgade' \(Did you mean upgrade\?\)\n {2}see `tessera tenants --help` for the options$/m, 2);
    // With --json, the same refusal as one JSON line (lib/cli/json-error.ts).
    expectPolite(await tessera(['--json', 'tenants', '-h', 'statment']), 2, /^\{"error":\{"message":"unknown command 'statment'","type":"usage_error","code":"unknown_command","param":"statment"\}\}$/m, 1);
    // the group's own help, a known subcommand's, and help <subcommand> are still help (exit 0)
    for (const args of [['tenants', '--help'], ['tenants', 'update', '--help'], ['tenants', 'upgrade', '--help'], ['tenants', 'help', 'update'], ['--region', 'eu-west-1', 'dlq', '--help']]) {
      const r = await tessera(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([0, '']);
      expect(r.stdout, args.join(' ')).toMatch(/^Usage: tessera /);
    }
  });
});

describe.concurrent('tessera fine-tuning job-manifest: each bad flag named', () => {
  const good = ['fine-tuning', 'job-manifest', '--tenant', 'acme', '--name', 'ft-1', '--image', 'img:1', '--bucket', 'b', '--training-file', 'training-data/t.jsonl'];
  const withFlag = (flag: string, value: string) => { const args = [...good]; const at = args.indexOf(flag); if (at >= 0) args[at + 1] = value; else args.push(flag, value); return args; };

  it('prints the manifest when every flag is right', async () => {
    const r = await tessera(good);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kind: Job/);
  });

  it.each([
    ['--tenant', 'Acme', /^error: --tenant "Acme": must be a lower-case DNS label.*e\.g\. --tenant acme$/m],
    ['--name', 'FT_1', /^error: --name "FT_1": must be a DNS label .*e\.g\. --name llama-ft-1$/m],
    ['--training-file', 'data/t.jsonl', /^error: --training-file "data\/t\.jsonl": must be a key under training-data\/ of the tenant bucket/],
  ])('%s %s: exit 2', async (flag, value, pattern) => {
    expectPolite(await tessera(withFlag(flag, value)), 2, pattern);
  });

  it('--gpus 9: exit 2, the range', async () => {
    expectPolite(await tessera(withFlag('--gpus', '9')), 2, /^error: option '--gpus <n>' argument '9' is invalid\. Expected a whole number of GPUs from 1 to 8\./, 2);
  });

  it('a missing required option: exit 2, named', async () => {
    expectPolite(await tessera(['fine-tuning', 'job-manifest', '--tenant', 'acme']), 2, /needs the options --name <name>, --image <uri>, --bucket <name>, --training-file <key>/, 2);
  });
});

describe.concurrent('npm run preflight: refusals (exit 2)', () => {
  it('an unknown option names the nearest one', async () => {
    const r = await preflightViaTsx('--confg', 'x.yaml');
    expect(r.stderr).toBe('preflight: unknown option --confg; did you mean --config? (npm run preflight -- --help lists the options)\n');
    expect(r.code).toBe(2);
  });

  it('an option without its value, a stray argument', async () => {
    expect((await preflight('--config')).stderr).toMatch(/^preflight: --config needs a value, e\.g\. --config tessera\.config\.yaml/);
    const stray = await preflight('tessera.config.yaml');
    expect(stray.stderr).toMatch(/^preflight: unexpected argument "tessera\.config\.yaml": options only .*npm run preflight -- --config tessera\.config\.yaml/);
    expect(stray.code).toBe(2);
    // --as-of is a calendar day: 2027-02-30 is not one (Date would roll it to March 2).
    const day = await preflight('--as-of', '2027-02-30');
    expect([day.code, day.stderr]).toEqual([2, 'preflight: --as-of 2027-02-30: expected a calendar day YYYY-MM-DD, e.g. --as-of 2027-01-14 (npm run preflight -- --help)\n']);
  });

  it('a config file that does not validate: its list of problems and the fix, no stack', async () => {
    const file = join(dir, 'bad.yaml');
    execFileSync('sh', ['-c', `printf 'homeRegoin: us-east-1\\n' > ${file}`]);
    const r = await preflight('--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^preflight: Invalid Tessera config \\(embedded default \\+ ${file}\\):\\n {2}- .*homeRegoin.*homeRegion`));
    expect(r.stderr).toMatch(/fix the config file named above/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(5);
  });
});
