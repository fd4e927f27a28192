import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateOrganizationCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigReport } from '../../lib/config/load-config.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';
import { cachedJsonAsync } from './support/disk-cache.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { expectPolite } from '../support/polite-cli.js';

/**
 * `tessera init` as an engineer runs it: `node bin/tessera.mjs init --yes ...` writes a file the CDK
 * app accepts (loaded as synth loads it, placeholders refused); bad and missing flags end with exit 2
 * and a one-line message or a short list, without a stack trace; --from-organization reads the
 * organization from moto (Organizations DescribeOrganization and ListRoots).
 *
 * Every run is a real process: `cli` is the CLI bundled once (test/support/cli-bundle.ts: the same
 * program without tsx's start-up cost); the default `--output` run goes through bin/tessera.mjs,
 * the entry point `npx tessera` starts.
 */
const bin = join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs');
const cli = await tesseraBundle();
const FLAGS = [
  '--management-account-id', '123456789012', '--organization-id', 'o-a1b2c3d4e5', '--root-id', 'r-ab12',
  '--platform-account-id', '234567890123', '--workload-account-id', '345678901234',
  '--home-region', 'eu-west-1', '--allowed-regions', 'eu-west-1,eu-central-1',
  '--account-email', 'aws+tessera-{tenantId}@platform.acme.test',
];
let dir: string;

interface Run { code: number; stdout: string; stderr: string }

/** Runs `tessera init <args>` in `dir`, stdin not a terminal (/dev/null); killed after 60 s. */
function init(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [cli, 'init', ...args], { cwd: dir, timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    child.stdin?.end();
  });
}


const load = (file: string) => loadConfigReport({ file }, { refusePlaceholders: true }).config;

/** What the synth test reads of the app built from a config file: the platform stack's environment and the assembly's missing context. */
interface Synthesized { account: string; region: string; availabilityZones: string[]; missing: unknown[] }

/**
 * The app built from the config file `file` (as synth loads it) and synthesized (`app.synth()`:
 * the compliance packs and CloudFormation validation; bundling skipped): what the test reads of it.
 * A whole-app synth is ~10 s of CPU, so its result is kept on disk (test/integration/support/disk-cache.ts)
 * under a key of every source the app and its test helpers read, this harness and this test file, the file's exact text
 * and the `CDK_*` variables: the same file with the same sources is the same synth. aws-cdk-lib is
 * imported only when it is computed. `TESSERA_TEST_CACHE=off` synthesizes every time.
 */
/** This file's own text: what the cached value is computed by (`synthesized` below) is part of the key. */
const OWN_CODE = createHash('sha256').update(readFileSync(new URL(import.meta.url), 'utf8')).digest('hex').slice(0, 16);

async function synthesized(file: string): Promise<Synthesized> {
  const cdkEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CDK_')).sort());
  return cachedJsonAsync<Synthesized>('init-cli-synth', { text: readFileSync(file, 'utf8'), cdkEnv, code: OWN_CODE }, async () => {
    const { buildApp } = await import('../support/synth.js');
    const { app, platform } = buildApp(load(file));
    const assembly = app.synth();
    return { account: platform.account, region: platform.region, availabilityZones: platform.availabilityZones, missing: assembly.manifest.missing ?? [] };
  });
}

beforeAll(() => {
  dir = tempDir('tessera-test-init-cli-');
});

describe.concurrent('tessera init --yes', () => {
  it('writes the file (exit 0), prints the path and the next two commands, and the file loads as synth loads it', async () => {
    // WHEN
    const run = await init(['--yes', '--output', 'ok.yaml', ...FLAGS, '--tiers', 'professional,enterprise', '--availability-zones', 'eu-west-1=eu-west-1a,eu-west-1b']);
    // THEN
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // eu-west-1 sells no g6.2xlarge (the preflight's Region data): the shared cluster's list is written with g5.2xlarge alone
    expect(run.stdout).toBe('Wrote ok.yaml\n  sharedCluster.gpu.instanceTypes: [g5.2xlarge] (eu-west-1 does not offer g6.2xlarge of the default\'s [g5.2xlarge, g6.2xlarge])\nNext:\n  npx tessera doctor --config ok.yaml\n  npx cdk synth -c tessera:configFile=ok.yaml\n  npm run preflight -- --config ok.yaml\n');
    const config = load(join(dir, 'ok.yaml'));
    expect(config).toMatchObject({
      organization: { managementAccountId: '123456789012', organizationId: 'o-a1b2c3d4e5', rootId: 'r-ab12' },
      platformAccountId: '234567890123', workloadAccountId: '345678901234', homeRegion: 'eu-west-1',
      allowedRegions: ['eu-west-1', 'eu-central-1'],
      availabilityZones: { 'eu-west-1': ['eu-west-1a', 'eu-west-1b'] }, // eu-central-1 unpinned: Fn::GetAZs at deploy time
      defaultTier: 'professional',
      sharedCluster: { gpu: { instanceTypes: ['g5.2xlarge'] } },
    });
    expect(Object.keys(config.tiers)).toEqual(['professional', 'enterprise']);
    expect(config.fineTuning.baseModels.every((m) => m.weightsS3Uri.startsWith('s3://tessera-base-models-234567890123/') && m.trainingImage.includes('.dkr.ecr.eu-west-1.'))).toBe(true);
    expect(readFileSync(join(dir, 'ok.yaml'), 'utf8')).toMatch(/^ {2}managementAccountId: "123456789012"$/m);
  });

  it('writes a file the CDK app synthesizes with, no credentials and no context lookups (bundling skipped)', async () => {
    // GIVEN
    const run = await init(['--yes', '--output', 'synth.yaml', ...FLAGS, '--tiers', 'starter,enterprise']);
    expect(run.code).toBe(0);
    // WHEN
    const synth = await synthesized(join(dir, 'synth.yaml'));
    // THEN: the platform stack is bound to the account and home region written, with the zones written
    expect(synth.account).toBe('234567890123');
    expect(synth.region).toBe('eu-west-1');
    expect(synth.availabilityZones).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    expect(synth.missing).toEqual([]);
  });

  it('defaults --output to ./tessera.config.yaml', async () => {
    const cwd = tempDir('tessera-test-init-cli-default-');
    const run = await new Promise<Run>((resolve) => {
      execFile(process.execPath, [bin, 'init', '--yes', ...FLAGS], { cwd, timeout: 60_000 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Wrote \.\/tessera\.config\.yaml\n/);
    expect(load(join(cwd, 'tessera.config.yaml')).platformAccountId).toBe('234567890123');
  });

  it('without flags: exit 2, one line naming every missing flag', async () => {
    expectPolite(await init(['--yes', '--output', 'none.yaml']), 2,
      /^error: missing --management-account-id, --organization-id, --root-id, --platform-account-id, --workload-account-id, --home-region, --allowed-regions, --account-email: --yes never prompts, so give each as a flag \(--from-organization reads/);
    expect(existsSync(join(dir, 'none.yaml'))).toBe(false);
  });

  it('without --yes and with stdin not a terminal: asks nothing, exit 2 saying why', async () => {
    expectPolite(await init(['--output', 'tty.yaml', ...FLAGS.slice(2)]), 2, /^error: missing --management-account-id: stdin is not a terminal, so nothing is asked, so give each as a flag/);
  });

  it.each([
    ['--management-account-id', '1234', /--management-account-id "1234": must be a 12-digit AWS account id such as 123456789012/],
    ['--organization-id', 'o-exampleorg1', /--organization-id "o-exampleorg1": is the embedded default's placeholder/],
    ['--root-id', 'root', /--root-id "root": must be an organization root id such as r-ab12/],
    ['--platform-account-id', '222222222222', /--platform-account-id "222222222222": is a placeholder of the embedded default/],
    ['--home-region', 'Ireland', /--home-region "Ireland": must be an AWS region name such as us-east-1/],
    ['--allowed-regions', 'eu-central-1', /--allowed-regions "eu-central-1": must include the home region eu-west-1/],
    ['--tiers', 'Starter', /--tiers "Starter": "Starter" is not a valid tier name: a tier name must be a lower-case DNS label/],
    ['--availability-zones', 'eu-west-1=eu-west-1a', /--availability-zones "eu-west-1=eu-west-1a": lists 1 zone\(s\) of the home region/],
    ['--base-models-bucket', 'My_Bucket', /--base-models-bucket "My_Bucket": must be an S3 bucket name/],
    ['--provider-secret', 'bedrock=x', /--provider-secret "bedrock=x": must be <provider>=<secret name>/],
  ])('%s %s: exit 2, one line naming the flag, the value and the rule', async (flag, value, message) => {
    const args = [...FLAGS];
    const at = args.indexOf(flag);
    if (at >= 0) args[at + 1] = value;
    else args.push(flag, value);
    expectPolite(await init(['--yes', '--output', `bad-${flag.slice(2)}.yaml`, ...args]), 2, new RegExp(`^error: ${message.source}`));
  });

  it('several bad flags: exit 2, a short list', async () => {
    const run = await init(['--yes', '--output', 'bad.yaml', '--management-account-id', '1', '--root-id', 'x', '--home-region', 'eu-west-1']);
    expectPolite(run, 2, /^error: 3 problems with the flags of tessera init:\n {2}- --management-account-id "1": .*\n {2}- --root-id "x": .*\n {2}- missing --organization-id, --platform-account-id, --workload-account-id, --allowed-regions, --account-email: /, 4);
  });

  it('an unknown flag: exit 2, one line with the nearest flag', async () => {
    expectPolite(await init(['--yes', '--home-regoin', 'eu-west-1']), 2, /unknown option '--home-regoin'.*--home-region/, 2);
  });

  it('refuses to overwrite without --force (exit 2, the file untouched), and overwrites with --force', async () => {
    // GIVEN
    const file = join(dir, 'exists.yaml');
    writeFileSync(file, 'mine: true\n');
    // WHEN / THEN
    expectPolite(await init(['--yes', '--output', 'exists.yaml', ...FLAGS]), 2, /^error: exists\.yaml exists: pass --force to overwrite it, or choose another --output\n$/);
    expect(readFileSync(file, 'utf8')).toBe('mine: true\n');
    const forced = await init(['--yes', '--force', '--output', 'exists.yaml', ...FLAGS]);
    expect(forced.code).toBe(0);
    expect(load(file).workloadAccountId).toBe('345678901234');
  });
});

describe('tessera init --from-organization (moto Organizations)', () => {
  let moto: MotoServer;
  const env = () => ({
    AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1',
    AWS_PROFILE: '', AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
  });
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('outside an organization: exit 1, names the call, what it means and the fix', async () => {
    await moto.reset();
    expectPolite(await init(['--yes', '--from-organization', '--output', 'no-org.yaml', ...FLAGS.slice(6)], env()), 1,
      /^error: --from-organization: Organizations DescribeOrganization failed: your account is not a member of an organization: create one .* or give --organization-id, --root-id and --management-account-id instead of --from-organization\n$/);
  });

  it('reads the organization id, root id and management account id', async () => {
    // GIVEN: an organization in moto
    await moto.reset();
    const client = new OrganizationsClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const organization = (await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }))).Organization!;
    const rootId = (await client.send(new ListRootsCommand({}))).Roots![0].Id!;
    // WHEN: the organization's three flags left out
    const run = await init(['--yes', '--from-organization', '--output', 'from-org.yaml', ...FLAGS.slice(6)], env());
    // THEN
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(load(join(dir, 'from-org.yaml')).organization).toMatchObject({
      organizationId: organization.Id, rootId, managementAccountId: organization.MasterAccountId,
    });
  });
});
