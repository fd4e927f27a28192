import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { doctor, parseAccountProfiles, readDoctorConfig } from '../../../lib/cli/doctor-command.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { DoctorStopped } from '../../../lib/cli/doctor/results.js';
import { awsClientFactory } from '../../../lib/cli/doctor/clients.js';
import { exitCodeOf, formatJson, formatReport } from '../../../lib/cli/doctor/format.js';
import { runDoctor } from '../../../lib/cli/doctor/runner.js';
import type { DoctorReport } from '../../../lib/cli/doctor/types.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { awsError, MANAGEMENT, PLATFORM, testConfig } from './support.js';
import { tempDir } from '../../support/temp-dirs.js';

const sts = mockStrict(STSClient, 'sts', STSServiceException);
const factory = awsClientFactory({ maxAttempts: 1 });
const okGroup = { name: 'ok', run: async () => [{ id: 'ok', title: 'OK', status: 'pass' as const, detail: 'fine' }] };

beforeEach(() => {
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: MANAGEMENT, Arn: `arn:aws:sts::${MANAGEMENT}:assumed-role/Admin/eng` });
});

describe('runDoctor', () => {
  it('opens with the config and the credentials, then the groups in order', async () => {
    const report = await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory, groups: [okGroup] });
    expect(report.checks.map((c) => [c.id, c.status, c.detail])).toEqual([
      ['config', 'pass', 'acme.yaml'],
      ['credentials', 'pass', `arn:aws:sts::${MANAGEMENT}:assumed-role/Admin/eng (management account)`],
      ['ok', 'pass', 'fine'],
    ]);
    expect(report.summary).toEqual({ pass: 3, fail: 0, warn: 0 });
    expect(exitCodeOf(report)).toBe(0);
  });

  it('says that the embedded default\'s placeholder ids cannot pass', async () => {
    const report = await runDoctor({ config: loadConfig(), factory, groups: [okGroup] });
    expect(report.checks[0]).toMatchObject({ id: 'config', status: 'fail' });
    expect(report.checks[0].detail).toBe('embedded default config: its placeholder ids (organization.managementAccountId 111111111111, organization.organizationId o-exampleorg1, organization.rootId r-ex01, platformAccountId 222222222222, workloadAccountId 333333333333) cannot pass; doctor read only who the credentials are (sts:GetCallerIdentity, the Credentials line) and made no call into these accounts (the offline checks below ran)');
    // no call into accounts that may belong to someone else
    expect(report.checks.map((c) => c.id)).toEqual(['config', 'credentials']);
    expect(exitCodeOf(report)).toBe(1);
  });

  it('fails the config line for a file synth refuses (a placeholder sender email), naming the key and the value, and still runs the checks', async () => {
    const dir = tempDir('doctor-config-');
    const file = join(dir, 'acme.yaml');
    const config = testConfig();
    writeFileSync(file, stringify({
      organization: config.organization, platformAccountId: config.platformAccountId, workloadAccountId: config.workloadAccountId,
      fineTuning: { baseModels: config.fineTuning.baseModels },
      tiers: { starter: { budgetAlerts: { emailTenantAdmins: true, senderEmail: 'alerts@example.com' } } },
    }));
    const loaded = readDoctorConfig(file);
    expect(loaded.placeholders.map((f) => f.path)).toEqual(['tiers.starter.budgetAlerts.senderEmail']);
    const report = await runDoctor({ config: loaded.config, configFile: file, placeholders: loaded.placeholders, factory, groups: [okGroup] });
    expect(report.checks[0]).toMatchObject({ id: 'config', status: 'fail', detail: `${file} keeps placeholders of the embedded default, which synth refuses: tiers.starter.budgetAlerts.senderEmail "alerts@example.com"` });
    expect(report.checks[0].fix).toContain('tiers.starter.budgetAlerts.senderEmail');
    expect(report.checks.map((c) => c.id)).toEqual(['config', 'credentials', 'ok']);
  });

  it('fails the config line for a file that leaves the tenant accounts\' root email to the embedded default (an account tier kept)', async () => {
    const file = join(tempDir('doctor-config-'), 'acme.yaml');
    const config = testConfig();
    const { accountEmail: _, ...organization } = config.organization;
    writeFileSync(file, stringify({ organization, platformAccountId: config.platformAccountId, workloadAccountId: config.workloadAccountId, fineTuning: { baseModels: config.fineTuning.baseModels } }));
    const loaded = readDoctorConfig(file);
    const report = await runDoctor({ config: loaded.config, configFile: file, placeholders: loaded.placeholders, factory, groups: [okGroup] });
    expect(report.checks[0]).toMatchObject({ id: 'config', status: 'fail', detail: `${file} keeps placeholders of the embedded default, which synth refuses: organization.accountEmail "aws+tessera-{tenantId}@example.com"` });
    expect(report.checks[0].fix).toContain('set the root email of the tenant accounts, an address of your platform team\'s with {tenantId}');
  });

  it('warns when --region is not the config\'s homeRegion, and still runs the checks there', async () => {
    const config = testConfig();
    const other = config.homeRegion === 'eu-west-1' ? 'us-west-2' : 'eu-west-1';
    const report = await runDoctor({ config, configFile: 'acme.yaml', region: other, factory, groups: [okGroup] });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([['config', 'pass'], ['credentials', 'pass'], ['region', 'warn'], ['ok', 'pass']]);
    expect(report.checks[2]).toMatchObject({
      detail: `--region ${other} is not the config's homeRegion ${config.homeRegion}: the platform, its secrets and the shared cluster deploy in ${config.homeRegion}, and the checks below read ${other}`,
      fix: `leave out --region to check ${config.homeRegion}, or set homeRegion: ${other} in the config if that is where the platform goes`, region: other,
    });
    // nor with the embedded default's placeholders, where no check follows
    const embedded = await runDoctor({ config: loadConfig(), region: other, factory, groups: [okGroup] });
    expect(embedded.checks.map((c) => c.id)).toEqual(['config', 'credentials']);
    // --region equal to homeRegion says nothing
    const same = await runDoctor({ config, configFile: 'acme.yaml', region: config.homeRegion, factory, groups: [okGroup] });
    expect(same.checks.map((c) => c.id)).toEqual(['config', 'credentials', 'ok']);
  });

  it('fails credentials of another account than the management account', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: PLATFORM, Arn: `arn:aws:sts::${PLATFORM}:assumed-role/Admin/eng` });
    const report = await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory, groups: [] });
    expect(report.checks[1]).toMatchObject({ id: 'credentials', status: 'fail', detail: `arn:aws:sts::${PLATFORM}:assumed-role/Admin/eng is in account ${PLATFORM}, not the management account ${MANAGEMENT}` });
  });

  it('turns a group that throws into one fail line, and keeps the others', async () => {
    const boom = { name: 'boom', run: async () => { throw new Error('unexpected\nsecond line'); } };
    const report = await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory, groups: [boom, okGroup] });
    expect(report.checks.slice(2).map((c) => [c.id, c.status, c.detail])).toEqual([['boom', 'fail', 'doctor could not run this check: unexpected'], ['ok', 'pass', 'fine']]);
  });

  it('refuses politely (CliError, exit 1, one line) without credentials', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const error = await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(1);
    expect((error as CliError).message).toBe('no AWS credentials (Could not load credentials from any providers): sign in to the management account (aws sso login --profile <profile>) and pass --profile <profile>, or set AWS_PROFILE');
  });

  it('prints the Config line with a stop too, judged offline: a config file that passes, the embedded default that cannot', async () => {
    // Before, a newcomer running doctor offline with --config saw the stop and the model-shutdown lines, and nothing of the file.
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const own = (await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory }).catch((e: unknown) => e)) as DoctorStopped;
    expect(own.check).toMatchObject({ id: 'credentials', status: 'fail' });
    expect(own.offline.filter((c) => c.id === 'config')).toEqual([{ id: 'config', title: 'Config', status: 'pass', detail: 'acme.yaml' }]);
    const embedded = (await runDoctor({ config: loadConfig(), factory }).catch((e: unknown) => e)) as DoctorStopped;
    expect(embedded.offline.filter((c) => c.id === 'config')).toEqual([expect.objectContaining({ status: 'fail', fix: 'write your config (npx tessera init) and run npx tessera doctor --config tessera.config.yaml' })]);
  });

  it('refuses politely when the endpoint cannot be reached', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
    const error = (await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory }).catch((e: unknown) => e)) as CliError;
    expect(error.message).toBe('sts:GetCallerIdentity failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9 (the endpoint cannot be reached: check the network, proxy and AWS_ENDPOINT_URL)');
  });

  it('with Bedrock deployments in other regions, an unreachable endpoint is the same stop line: no Bedrock line of any region', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
    const config = testConfig({ gateway: { models: [{ id: 'bedrock/nova-spread', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0.00006, outputPricePer1k: 0.00024, deployments: [{ name: 'west', region: 'us-west-2' }] }] } });
    const error = (await runDoctor({ config, configFile: 'acme.yaml', factory }).catch((e: unknown) => e)) as DoctorStopped;
    expect(error).toBeInstanceOf(DoctorStopped);
    expect(error.message).toBe('sts:GetCallerIdentity failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9 (the endpoint cannot be reached: check the network, proxy and AWS_ENDPOINT_URL)');
    expect(error.offline.filter((c) => c.id.startsWith('bedrock'))).toEqual([]);
  });

  it('still runs the checks that need no AWS (model-shutdown) when the endpoint cannot be reached or the credentials are missing, and prints them with the stop', async () => {
    // Before, the stop was the only line: none of the model-shutdown lines the preflight and platform health print offline.
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
    const today = new Date('2026-12-05T00:00:00Z');
    const error = (await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory, today }).catch((e: unknown) => e)) as DoctorStopped;
    expect(error).toBeInstanceOf(DoctorStopped);
    expect(error.offline.length).toBeGreaterThan(1);
    expect(error.offline[0]).toMatchObject({ id: 'config', status: 'pass', detail: 'acme.yaml' });
    expect(error.offline.slice(1).every((c) => c.id === 'model-shutdown' || c.id.startsWith('model-shutdown:'))).toBe(true);
    const dir = tempDir('tessera-doctor-offline-');
    const file = join(dir, 'acme.json');
    writeFileSync(file, JSON.stringify(testConfig()));
    for (const json of [false, true]) {
      const printed: string[] = [];
      await expect(doctor({ config: file, accountProfile: [], asOf: '2026-12-05', json }, (t) => printed.push(t), factory)).rejects.toThrow(/sts:GetCallerIdentity failed/);
      const text = printed.join('\n');
      expect(text).toMatch(json ? /"id": "model-shutdown/ : /Model shutdowns|Shutdown of /);
      expect(text).toContain('sts:GetCallerIdentity failed');
    }
  });

  it('refuses politely with invalid credentials', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403));
    const error = (await runDoctor({ config: testConfig(), configFile: 'acme.yaml', factory }).catch((e: unknown) => e)) as CliError;
    expect(error.message).toMatch(/^sts:GetCallerIdentity failed: InvalidClientTokenId: The security token included in the request is invalid\./);
  });
});

describe('report formats', () => {
  const report: DoctorReport = {
    checks: [
      { id: 'organization', title: 'Organization', status: 'pass', detail: `o-abcdefghij, management account ${MANAGEMENT}, all features`, account: MANAGEMENT, region: 'us-east-1' },
      { id: 'organization-root', title: 'Root and SCPs', status: 'fail', detail: 'root r-abcd: SERVICE_CONTROL_POLICY is not enabled', fix: 'aws organizations enable-policy-type --root-id r-abcd --policy-type SERVICE_CONTROL_POLICY', account: MANAGEMENT, region: 'us-east-1' },
      { id: 'gpu', title: 'GPU quota', status: 'warn', detail: 'short', fix: 'nothing now' },
    ],
    summary: { pass: 1, fail: 1, warn: 1 },
  };

  it('prints one line per check with its mark, an indented fix under failures and warnings, and the counts', () => {
    expect(formatReport(report).split('\n')).toEqual([
      `✓ Organization   o-abcdefghij, management account ${MANAGEMENT}, all features [${MANAGEMENT} us-east-1]`,
      `✗ Root and SCPs  root r-abcd: SERVICE_CONTROL_POLICY is not enabled [${MANAGEMENT} us-east-1]`,
      '    fix: aws organizations enable-policy-type --root-id r-abcd --policy-type SERVICE_CONTROL_POLICY',
      '! GPU quota      short',
      '    fix: nothing now',
      '',
      'doctor: 1 pass, 1 fail, 1 warn (fix each ✗ line and run it again)',
    ]);
    expect(exitCodeOf(report)).toBe(1);
  });

  it('--json is { checks, summary }', () => {
    expect(JSON.parse(formatJson(report))).toEqual({ checks: report.checks, summary: report.summary });
  });

  it('warnings alone exit 0', () => {
    expect(exitCodeOf({ checks: [], summary: { pass: 3, fail: 0, warn: 2 } })).toBe(0);
  });
});

describe('--account-profile', () => {
  it('parses account=profile pairs', () => {
    expect(parseAccountProfiles(['555555555555=platform-ro', '666666666666=workload'])).toEqual({ '555555555555': 'platform-ro', '666666666666': 'workload' });
  });
  it('refuses a malformed value with exit 2, naming it', () => {
    const error = (() => { try { parseAccountProfiles(['platform']); return undefined; } catch (e) { return e as CliError; } })();
    expect(error).toBeInstanceOf(CliError);
    expect([error?.exitCode, error?.message]).toEqual([2, '--account-profile platform: expected <12-digit account id>=<profile name>, e.g. --account-profile 555555555555=platform-readonly']);
  });
});

describe('doctor --json when doctor stops: one report on stdout with the failing line, the same error and exit code', () => {
  /** Runs doctor() as the command does, with what it printed on stdout and the error it threw (its message and exit code go to stderr). */
  async function stopped(flags: Partial<Parameters<typeof doctor>[0]>) {
    const printed: string[] = [];
    const error = await doctor({ accountProfile: [], json: true, ...flags }, (t) => printed.push(t), factory).then(() => undefined, (e: unknown) => e as CliError);
    expect(printed).toHaveLength(1);
    return { report: JSON.parse(printed[0]!) as DoctorReport, error: error! };
  }
  const configFile = () => {
    const file = join(tempDir('doctor-config-'), 'acme.yaml');
    const config = testConfig();
    writeFileSync(file, stringify({ organization: config.organization, platformAccountId: config.platformAccountId, workloadAccountId: config.workloadAccountId, fineTuning: { baseModels: config.fineTuning.baseModels } }));
    return file;
  };

  it('no credentials: a failing credentials line with the fix, exit 1', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const { report, error } = await stopped({ config: configFile() });
    // The failing line first, then the Config line and the checks that need no AWS (model-shutdown), which still ran.
    expect(report.checks[0]).toEqual({ id: 'credentials', title: 'Credentials', status: 'fail', detail: 'no AWS credentials (Could not load credentials from any providers)', fix: 'sign in to the management account (aws sso login --profile <profile>) and pass --profile <profile>, or set AWS_PROFILE', region: 'us-east-1' });
    expect(report.checks[1]).toMatchObject({ id: 'config', status: 'pass' });
    expect(report.checks.slice(2).map((c) => c.id.split(':')[0])).toEqual(report.checks.slice(2).map(() => 'model-shutdown'));
    expect(report.summary.fail).toBe(1 + report.checks.slice(1).filter((c) => c.status === 'fail').length);
    expect([error.exitCode, error.message]).toEqual([1, 'no AWS credentials (Could not load credentials from any providers): sign in to the management account (aws sso login --profile <profile>) and pass --profile <profile>, or set AWS_PROFILE']);
  });

  it('unreachable endpoint: a failing endpoint line naming the call and the cause, exit 1', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
    const { report, error } = await stopped({ config: configFile() });
    expect(report.checks[0]).toEqual({ id: 'endpoint', title: 'Endpoint', status: 'fail', detail: 'sts:GetCallerIdentity failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9 (the endpoint cannot be reached: check the network, proxy and AWS_ENDPOINT_URL)', fix: 'check the network, proxy and AWS_ENDPOINT_URL, then run doctor again', region: 'us-east-1' });
    expect(report.checks.length).toBeGreaterThan(2);
    expect(report.checks[1]).toMatchObject({ id: 'config', status: 'pass' });
    expect(report.checks.slice(2).every((c) => c.id.startsWith('model-shutdown'))).toBe(true);
    expect([error.exitCode, error.message]).toEqual([1, 'sts:GetCallerIdentity failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9 (the endpoint cannot be reached: check the network, proxy and AWS_ENDPOINT_URL)']);
  });

  it('a config it cannot load, a malformed --account-profile or --as-of: a failing line naming it, exit 2, no AWS call', async () => {
    const bad = join(tempDir('doctor-config-'), 'bad.yaml');
    writeFileSync(bad, 'homeRegoin: us-east-1\n');
    const config = await stopped({ config: bad });
    expect(config.report.checks).toEqual([{ id: 'config', title: 'Config', status: 'fail', detail: expect.stringMatching(/^Invalid Tessera config \(embedded default \+ .*bad\.yaml\): .*homeRegoin = "us-east-1": is not a top-level key; did you mean `homeRegion`\?$/), fix: `fix ${bad}` }]);
    expect(config.error.exitCode).toBe(2);
    expect(config.error.message).toMatch(/^Invalid Tessera config \(.*\):\n  - .*homeRegoin.*\n  fix the config file named above$/);
    const profile = await stopped({ accountProfile: ['platform'] });
    expect(profile.report.checks).toEqual([{ id: 'account-profile', title: '--account-profile', status: 'fail', detail: '--account-profile platform: expected <12-digit account id>=<profile name>', fix: 'e.g. --account-profile 555555555555=platform-readonly' }]);
    expect([profile.error.exitCode, profile.error.message]).toEqual([2, '--account-profile platform: expected <12-digit account id>=<profile name>, e.g. --account-profile 555555555555=platform-readonly']);
    const asOf = await stopped({ asOf: '2027-13-01' });
    expect(asOf.report.checks).toEqual([{ id: 'as-of', title: '--as-of', status: 'fail', detail: '--as-of 2027-13-01: expected a calendar day YYYY-MM-DD, e.g. --as-of 2027-01-14', fix: 'e.g. --as-of 2027-01-14' }]);
    expect(asOf.error.exitCode).toBe(2);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it('without --json: the failing line and the offline checks\' lines on stdout, the error (one line) thrown for stderr', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const printed: string[] = [];
    await expect(doctor({ accountProfile: [], config: configFile() }, (t) => printed.push(t), factory)).rejects.toBeInstanceOf(CliError);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^✗ Credentials +no AWS credentials/);
    expect(printed[0]).toMatch(/\n[✓!✗] (Model shutdowns|Shutdown of )/);
  });
});
