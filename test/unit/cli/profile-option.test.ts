import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { COMMANDS, PROFILE_COMMANDS, runTesseraProgram, withProfileAfterCommand } from '../../../lib/cli/program.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * Found by a platform engineer trying the README (s22): `tessera tenants list --profile x` was refused (exit 2) while
 * `tessera dlq` and `doctor` take --profile. Every command group that signs admin API calls takes it now, and signs
 * with that profile's credentials; a command that takes none (roles: no AWS call) says it makes no AWS call.
 */
let server: Server;
const seen: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  const dir = tempDir('tessera-profile');
  writeFileSync(join(dir, 'credentials'), '[ops]\naws_access_key_id = AKIAOPSPROFILE000001\naws_secret_access_key = secret\n');
  writeFileSync(join(dir, 'config'), '[profile ops]\nregion = us-east-1\n');
  server = createServer((req, res) => {
    seen.push(`${req.headers['x-amz-target'] ?? req.url} ${/Credential=([A-Z0-9]+)\//.exec(req.headers.authorization ?? '')?.[1]}`);
    res.setHeader('content-type', 'application/json');
    // AWS_ENDPOINT_URL (below) sends serve's and init's AWS calls here too: DynamoDB and Organizations speak AWS JSON.
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target === 'DynamoDB_20120810.Scan') {
      res.statusCode = 400;
      return void res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' }));
    }
    if (target.endsWith('.DescribeOrganization')) return void res.end(JSON.stringify({ Organization: { Id: 'o-zzzzzzzzzz', MasterAccountId: '999999999999' } }));
    if (target.endsWith('.ListRoots')) return void res.end(JSON.stringify({ Roots: [{ Id: 'r-zz99', Name: 'Root' }] }));
    res.end(req.url?.startsWith('/admin/tenants/acme/keys') ? JSON.stringify({ data: [] }) : JSON.stringify({ tenants: [] }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  Object.assign(process.env, {
    TESSERA_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
});
// The requests each test made, and only those: the first test reads the whole list.
beforeEach(() => {
  seen.length = 0;
});
afterAll(async () => {
  process.env = saved;
  await new Promise((ok) => server.close(ok));
});

describe('--profile', () => {
  it('tenants list --profile ops signs with the profile\'s credentials (without it, the default chain\'s)', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await runTesseraProgram(['tenants', 'list', '--profile', 'ops'])).toBe(0);
    expect(await runTesseraProgram(['tenants', 'list'])).toBe(0);
    vi.restoreAllMocks();
    expect(seen.map((s) => s.split(' ')[1])).toEqual(['AKIAOPSPROFILE000001', 'AKIAENVIRONMENT00001']);
  });

  it('a command without --profile (it makes no AWS call) says so', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    expect(await runTesseraProgram(['roles', '--profile', 'ops'])).toBe(2);
    vi.restoreAllMocks();
    expect(err.join('')).toMatch(/^error: unknown option '--profile'; this command makes no AWS call: leave out --profile\n/);
  });

  // s25: docs/tenant-lifecycle.md's list of the commands that take --profile left out serve and init, which `tessera --help` lists.
  it('docs/tenant-lifecycle.md (The CLI) names the commands that take it as `tessera --help` does (PROFILE_COMMANDS), and those that refuse it', () => {
    const doc = readFileSync(new URL('../../../docs/tenant-lifecycle.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const sentence = /`--profile <profile>` on (.*?), else `AWS_PROFILE` and the default chain(.*?) and finds the API/.exec(doc);
    expect(sentence, 'the sentence "--profile <profile> on ..., else AWS_PROFILE and the default chain ..." of The CLI').not.toBeNull();
    const commands = (text: string) => [...text.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!).filter((w) => COMMANDS.some((c) => c.name === w));
    expect(commands(sentence![1]!).sort()).toEqual([...PROFILE_COMMANDS].sort());
    expect(commands(sentence![2]!).sort()).toEqual(COMMANDS.map((c) => c.name).filter((c) => !(PROFILE_COMMANDS as readonly string[]).includes(c)).sort());
  });
});

/**
 * Found in s22's follow-up: `tessera --profile ops tenants list` (the option before the command, as AWS CLI users write it)
 * was refused with `unknown option '--profile'` while `tessera tenants list --profile ops` worked.
 */
describe('--profile before the command', () => {
  const stderrOf = async (args: string[]) => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    const code = await runTesseraProgram(args);
    vi.restoreAllMocks();
    return { code, err: err.join('') };
  };

  it('tessera --profile ops tenants list, and --profile=ops: signed with the profile\'s credentials', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await runTesseraProgram(['--profile', 'ops', 'tenants', 'list'])).toBe(0);
    expect(await runTesseraProgram(['--json', '--profile=ops', 'tenants', 'list'])).toBe(0);
    vi.restoreAllMocks();
    expect(seen.map((s) => s.split(' ')[1])).toEqual(['AKIAOPSPROFILE000001', 'AKIAOPSPROFILE000001']);
  });

  it('a command that takes no --profile refuses it before the command as it does after it', async () => {
    const after = await stderrOf(['roles', '--profile', 'ops']);
    expect(after.code).toBe(2);
    expect(after.err).toMatch(/^error: unknown option '--profile'; this command makes no AWS call: leave out --profile\n/);
    expect(await stderrOf(['--profile', 'ops', 'roles'])).toEqual(after);
    expect(await stderrOf(['--profile=ops', 'roles'])).toEqual(after);
    // --profile=<name> after the command is refused with the same hint
    expect((await stderrOf(['roles', '--profile=ops'])).err).toMatch(/^error: unknown option '--profile=ops'; this command makes no AWS call: leave out --profile/);
  });

  it('moves it after the command\'s own options (a subcommand\'s option: dlq list), before a --profile given after the command (which counts)', () => {
    expect(withProfileAfterCommand(['--json', '--profile', 'ops', 'dlq', 'list', '--peek'])).toEqual(['--json', 'dlq', 'list', '--peek', '--profile', 'ops']);
    expect(withProfileAfterCommand(['--profile=a', 'tenants', 'list', '--profile', 'b'])).toEqual(['tenants', 'list', '--profile', 'a', '--profile', 'b']);
    expect(withProfileAfterCommand(['--profile', 'ops'])).toEqual(['--profile', 'ops']);
    expect(withProfileAfterCommand(['tenants', 'list', '--profile', 'ops'])).toEqual(['tenants', 'list', '--profile', 'ops']);
  });

  it('tessera tenants --profile ops list --help prints list\'s help: ops is no subcommand (the help flag was dropped and list ran)', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    expect(await runTesseraProgram(['tenants', '--profile', 'ops', 'list', '--help'])).toBe(0);
    vi.restoreAllMocks();
    expect(out.join('')).toMatch(/^Usage: tessera tenants list /);
    expect(seen).toEqual([]);
  });
});

/**
 * Found in s23: `tessera serve --profile ops` and `tessera init --from-organization --profile ops` were refused (`unknown option
 * '--profile'; this command takes no --profile: set AWS_PROFILE`) while tenants, keys, users and login take it. serve (a --dynamodb
 * registry, bedrock, sagemaker, guardrails, --fine-tuning) and init (--from-organization) call AWS with the profile now; roles makes
 * no AWS call and still refuses it (above).
 */
describe('--profile of serve and init', () => {
  const run = async (args: string[]) => {
    const err: string[] = [];
    const out: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    const from = seen.length;
    const code = await runTesseraProgram(args);
    vi.restoreAllMocks();
    return { code, err: err.join(''), out: out.join(''), calls: seen.slice(from) };
  };
  // serve sets AWS_PROFILE for its process (every AWS client of the gateway reads it): not for the next test. The Lambdas' code
  // keeps one DynamoDB client (and its credentials) per process, so one serve run of this file reads the registry.
  afterEach(() => { delete process.env.AWS_PROFILE; });

  it('serve --profile ops --dynamodb: the registry is read with the profile\'s credentials (not the environment\'s)', async () => {
    const { code, err, calls } = await run(['serve', '--profile', 'ops', '--dynamodb', 'tessera-tenants:tessera-usage', '--port', '0', '--state-dir', tempDir('tessera-profile-serve')]);
    // The table is missing (the fake answers ResourceNotFoundException): serve refuses to start, after reading it as ops.
    expect(err).toMatch(/^tessera serve: --dynamodb tessera-tenants: no such DynamoDB table/);
    expect(code).toBe(2);
    expect(calls).toEqual(['DynamoDB_20120810.Scan AKIAOPSPROFILE000001']);
  });

  it.each([[['init', '--profile', 'ops']], [['--profile=ops', 'init']]])('%j --from-organization reads the organization with the profile\'s credentials', async (args) => {
    const output = join(tempDir('tessera-profile-init'), 'tessera.config.yaml');
    const { code, err, calls } = await run([...args, '--from-organization', '--yes', '--output', output,
      '--platform-account-id', '234567890123', '--workload-account-id', '345678901234', '--home-region', 'us-east-1', '--allowed-regions', 'us-east-1',
      '--account-email', 'aws+tessera-{tenantId}@platform.acme.test']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(calls).toEqual(['AWSOrganizationsV20161128.DescribeOrganization AKIAOPSPROFILE000001', 'AWSOrganizationsV20161128.ListRoots AKIAOPSPROFILE000001']);
    expect(loadConfig({ file: output }).organization).toMatchObject({ organizationId: 'o-zzzzzzzzzz', rootId: 'r-zz99', managementAccountId: '999999999999' });
  });
});
