import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { runInit, type InitOptions } from '../../../lib/cli/init-command.js';
import { loadConfigReport } from '../../../lib/config/load-config.js';
import { nodeGroups } from '../../../lib/node-groups.js';
import { RegionOfferings } from '../../../lib/preflight/region-offerings.js';

/** Loads a written file as the CDK app does: placeholders of the embedded default refused. */
const loadConfig = (sources: { file: string }) => loadConfigReport(sources, { refusePlaceholders: true }).config;
import { tempDir } from '../../support/temp-dirs.js';
import { REQUIRED_FLAGS } from './required-flags.js';

function sink(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return Object.assign(stream, { text: () => text });
}

function quietIo(interactive = false) {
  return { input: new PassThrough(), output: sink(), interactive };
}

async function cliError(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('runInit', () => {
  it('writes the file, loads it back, and prints the path and the next three commands (preflight too)', async () => {
    // GIVEN
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    const io = quietIo();
    // WHEN
    await runInit({ ...REQUIRED_FLAGS, output, yes: true }, io);
    // THEN
    expect(loadConfig({ file: output }).platformAccountId).toBe('234567890123');
    expect(io.output.text()).toBe(`Wrote ${output}\n  sharedCluster.gpu.instanceTypes: [g5.2xlarge] (eu-west-1 does not offer g6.2xlarge of the default's [g5.2xlarge, g6.2xlarge])\nNext:\n  npx tessera doctor --config ${output}\n  npx cdk synth -c tessera:configFile=${output}\n  npm run preflight -- --config ${output}\n`);
  });

  it.each([
    // eu-west-1 sells no g6.2xlarge (cfn-lint's Region data): the shared cluster gets g5.2xlarge alone; enterprise's list is offered whole
    ['eu-west-1', ['g5.2xlarge'], ['g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge']],
    ['us-east-1', ['g5.2xlarge', 'g6.2xlarge'], ['g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge']],
  ])('writes GPU instance types the home region %s offers, which the preflight\'s Region data confirms', async (region, shared, enterprise) => {
    // GIVEN
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    // WHEN
    await runInit({ ...REQUIRED_FLAGS, homeRegion: region, allowedRegions: region, output, yes: true }, quietIo());
    // THEN every node group of the written config has only types the Region offers, as offered-in-region checks them
    const config = loadConfig({ file: output });
    expect(config.sharedCluster.gpu.instanceTypes).toEqual(shared);
    const dedicated = config.tiers.enterprise.compute;
    expect(dedicated.mode === 'dedicated' && dedicated.gpu.instanceTypes).toEqual(enterprise);
    const groups = [
      ...nodeGroups('sharedCluster', config.sharedCluster.systemNodes.instanceType, config.sharedCluster.gpu),
      ...(dedicated.mode === 'dedicated' ? nodeGroups('tiers.enterprise.compute', dedicated.systemNodes.instanceType, dedicated.gpu) : []),
    ];
    const offerings = new RegionOfferings();
    const notOffered = groups.flatMap((g) => g.instanceTypes.filter((t) => offerings.ec2InstanceTypeOffered(region, t) !== true).map((t) => `${g.key}: ${t}`));
    expect(notOffered).toEqual([]);
  });

  it('writes the default GPU types with a line saying so when the Region data cannot be read (no cfn-lint)', async () => {
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    const io = { ...quietIo(), instanceTypeOffered: () => { throw new Error('cfn-lint not found'); } };
    await runInit({ ...REQUIRED_FLAGS, output, yes: true }, io);
    expect(loadConfig({ file: output }).sharedCluster.gpu.instanceTypes).toEqual(['g5.2xlarge', 'g6.2xlarge']);
    expect(io.output.text()).toMatch(/^GPU instance types not checked for eu-west-1 \(cfn-lint not found\): npm run preflight checks them\nWrote [^\n]+\nNext:\n/);
  });

  it('refuses to overwrite a file without --force, before asking anything, and leaves it alone', async () => {
    // GIVEN
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    writeFileSync(output, 'mine\n');
    // WHEN: interactive, with no answers: a question would end in "input ended"
    const error = await cliError(runInit({ output }, { ...quietIo(true), input: new PassThrough().end() as PassThrough }));
    // THEN
    expect(error.message).toBe(`${output} exists: pass --force to overwrite it, or choose another --output`);
    expect(error.exitCode).toBe(2);
    expect(readFileSync(output, 'utf8')).toBe('mine\n');
  });

  it('overwrites with --force', async () => {
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    writeFileSync(output, 'mine\n');
    await runInit({ ...REQUIRED_FLAGS, output, yes: true, force: true }, quietIo());
    expect(readFileSync(output, 'utf8')).toMatch(/^# Tessera platform configuration/);
  });

  it.each([
    ['a folder', (dir: string) => dir, /is a folder: name a file/],
    ['a path whose folder is missing', (dir: string) => join(dir, 'nope', 'c.yaml'), /its folder does not exist/],
  ])('refuses --output naming %s', async (_what, path, message) => {
    const dir = tempDir('tessera-test-init-run-');
    const error = await cliError(runInit({ ...REQUIRED_FLAGS, output: path(dir), yes: true }, quietIo()));
    expect(error.message).toMatch(message);
  });

  it('writes nothing when a flag is missing', async () => {
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    const error = await cliError(runInit({ ...REQUIRED_FLAGS, homeRegion: undefined, output, yes: true } as InitOptions, quietIo()));
    expect(error.message).toMatch(/^missing --home-region: --yes never prompts/);
    expect(existsSync(output)).toBe(false);
  });

  it('takes the organization from --from-organization', async () => {
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    const organization = { organizationId: 'o-zzzzzzzzzz', rootId: 'r-zz99', managementAccountId: '999999999999' };
    await runInit({ ...REQUIRED_FLAGS, organizationId: undefined, rootId: undefined, managementAccountId: undefined, output, yes: true, fromOrganization: true },
      { ...quietIo(), readOrganization: async () => organization });
    expect(loadConfig({ file: output }).organization).toMatchObject(organization);
  });

  it('interactive: asks each missing value with its default, re-asks a bad answer, and writes what was answered', async () => {
    // GIVEN: the flags give the management account; every other answer comes from the input
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    const input = new PassThrough();
    const io = { input, output: sink(), interactive: true };
    input.end([
      'o-a1b2c3d4e5', // organization id
      'r-ab12', // root id
      '222222222222', // platform account: the placeholder, refused
      '234567890123', // platform account
      '345678901234', // workload account
      'eu-west-1', // home region
      '', // allowed regions: the default, the home region
      'eu-west-1a,eu-west-1b', // zones of eu-west-1
      'gold', // tiers: refused
      'professional', // tiers
      '', // bucket: the default
      'tessera/providers/openai-prod', // openai secret
      '', // huggingface secret: the default
      '',
    ].join('\n'));
    // WHEN
    await runInit({ managementAccountId: '123456789012', output }, io);
    // THEN
    const transcript = io.output.text();
    expect(transcript).toContain('tessera init: answer each question; Enter takes the [default].\n');
    expect(transcript).toContain('Platform account id (runs the registry, workflows, gateway): '
      + '  "222222222222": is a placeholder of the embedded default: give your own account id; try again\n');
    expect(transcript).toContain('Allowed regions, comma-separated (must include the home region) [eu-west-1]: ');
    expect(transcript).toContain('Availability Zones of eu-west-1, comma-separated, e.g. eu-west-1a,eu-west-1b,eu-west-1c [at deploy time]: ');
    expect(transcript).toContain('Default tiers to keep, comma-separated [starter,professional,enterprise]: ');
    expect(transcript).toContain('"gold": "gold" is not a default tier');
    expect(transcript).toContain('S3 bucket of the base-model weights (in the platform account) [tessera-base-models-234567890123]: ');
    expect(transcript).toContain('Secrets Manager secret of the huggingface API key [tessera/providers/huggingface]: ');
    expect(transcript).not.toContain('Management account id');
    expect(transcript).toMatch(/Wrote .*\n(?: {2}.*\n)*Next:\n/);
    const config = loadConfig({ file: output });
    expect(config).toMatchObject({
      organization: { managementAccountId: '123456789012', organizationId: 'o-a1b2c3d4e5', rootId: 'r-ab12' },
      platformAccountId: '234567890123', workloadAccountId: '345678901234', homeRegion: 'eu-west-1', allowedRegions: ['eu-west-1'],
      availabilityZones: { 'eu-west-1': ['eu-west-1a', 'eu-west-1b'] }, defaultTier: 'professional',
    });
    expect(Object.keys(config.tiers)).toEqual(['professional']);
    expect(config.gateway.providers.openai.apiKeySecretId).toBe('tessera/providers/openai-prod');
    expect(config.gateway.providers.huggingface.apiKeySecretId).toBe('tessera/providers/huggingface');
  });

  it('interactive: a home region asked after --allowed-regions must be one of them', async () => {
    // GIVEN
    const output = join(tempDir('tessera-test-init-run-'), 'tessera.config.yaml');
    const input = new PassThrough();
    const io = { input, output: sink(), interactive: true };
    input.end(['us-east-1', 'eu-west-1', '', '', '', '', '', '', ''].join('\n'));
    // WHEN
    await runInit({ ...REQUIRED_FLAGS, homeRegion: undefined, output } as InitOptions, io);
    // THEN
    expect(io.output.text()).toContain('"us-east-1": is not one of --allowed-regions (eu-west-1,eu-central-1): choose one of them; try again');
    expect(loadConfig({ file: output }).homeRegion).toBe('eu-west-1');
  });
});
