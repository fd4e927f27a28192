import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { credentialsError } from '../../../lib/cli/admin-api-errors.js';
import { awsFailure } from '../../../lib/cli/admins/aws-failure.js';
import { findInstance } from '../../../lib/cli/admins/identity-center.js';
import { describeAwsError, missingProfileOf } from '../../../lib/cli/aws-errors.js';
import { missingProfile, sharedProfiles } from '../../../lib/cli/aws-profiles.js';
import { runTesseraProgram } from '../../../lib/cli/program.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * Found by a new user (s23): `tessera --profile x tenants drift --detect` (and `tessera tenants list --profile x`) with a
 * profile x in neither ~/.aws/config nor ~/.aws/credentials printed "no AWS credentials found … set AWS_PROFILE to a profile
 * of ~/.aws/config": the SDK's error ("Could not load credentials from any providers") does not name the profile. Now: the
 * profile, where it was named, the two files looked in (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE honoured) and the
 * profiles they hold, names only; exit 2 (a wrong name, not a runtime failure).
 */
const saved = { ...process.env };
let dir: string;

beforeAll(() => {
  dir = tempDir('tessera-profile-missing');
  writeFileSync(join(dir, 'config'), '[default]\nregion = us-east-1\n[profile ops] # platform\nregion = us-east-1\n[sso-session corp]\nsso_region = us-east-1\n[services local]\n');
  writeFileSync(join(dir, 'credentials'), '[dev]\naws_access_key_id = AKIADEVPROFILE000001\naws_secret_access_key = not-a-secret\n');
  Object.assign(process.env, { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  for (const v of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'TESSERA_API_URL']) delete process.env[v];
});
afterAll(() => { process.env = saved; });

async function stderrOf(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await runTesseraProgram(args), err: err.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('a --profile that names no profile', () => {
  it('tessera --profile x tenants drift --detect: names x, both files (and their variables) and the profiles found', async () => {
    const { code, err } = await stderrOf(['--profile', 'x', 'tenants', 'drift', '--detect', '--api-url', 'http://127.0.0.1:1']);
    expect(err).toBe(`error: cannot sign the admin API call (SigV4): AWS profile "x" (--profile) was not found: looked in ${join(dir, 'config')} (AWS_CONFIG_FILE) `
      + `and ${join(dir, 'credentials')} (AWS_SHARED_CREDENTIALS_FILE); profiles found: default, ops, dev; pass one of them, or create "x" (aws configure sso --profile x, or aws configure --profile x)\n`);
    expect(code).toBe(2);
  });

  it('tessera tenants list --profile x, and AWS_PROFILE=x: the same, saying where the name came from', async () => {
    const after = await stderrOf(['tenants', 'list', '--profile', 'x', '--api-url', 'http://127.0.0.1:1']);
    expect(after.code).toBe(2);
    expect(after.err).toMatch(/^error: cannot sign the admin API call \(SigV4\): AWS profile "x" \(--profile\) was not found: looked in .*; profiles found: default, ops, dev;/);
    process.env.AWS_PROFILE = 'x';
    try {
      expect((await stderrOf(['tenants', 'list', '--api-url', 'http://127.0.0.1:1'])).err).toMatch(/AWS profile "x" \(AWS_PROFILE\) was not found/);
    } finally {
      delete process.env.AWS_PROFILE;
    }
  });

  it('tessera doctor --profile x: the same line (was "no AWS credentials for profile x (Could not resolve credentials …)")', async () => {
    const { code, err } = await stderrOf(['doctor', '--profile', 'x']);
    expect(err).toMatch(/^error: AWS profile "x" \(--profile\) was not found: looked in .*; profiles found: default, ops, dev; pass one of them/);
    expect(code).toBe(2);
  });

  it('a profile that is there but gives no credentials is said as such, with the file that holds it', async () => {
    const { code, err } = await stderrOf(['tenants', 'list', '--profile', 'ops', '--api-url', 'http://127.0.0.1:1']);
    expect(err).toMatch(new RegExp(`^error: no AWS credentials from profile "ops" \\(--profile, in ${join(dir, 'config')}\\) to sign the admin API call \\(SigV4\\): give it credentials .*aws sso login --profile ops first\\n$`));
    expect(code).toBe(1);
  });

  it('without the variables: ~/.aws/config and ~/.aws/credentials of HOME; a file that cannot be read is said', async () => {
    const home = tempDir('tessera-profile-home');
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'config'), '[profile ops]\nregion = us-east-1\n');
    const env = { HOME: home };
    expect(await sharedProfiles(env)).toEqual({ configFile: join(home, '.aws', 'config'), credentialsFile: join(home, '.aws', 'credentials'), inConfig: ['ops'], inCredentials: undefined });
    expect(await missingProfile('x', '--profile', env)).toBe(`AWS profile "x" (--profile) was not found: looked in ${join(home, '.aws', 'config')} and ${join(home, '.aws', 'credentials')} (cannot be read); `
      + 'profiles found: ops; pass one of them, or create "x" (aws configure sso --profile x, or aws configure --profile x)');
    expect(await missingProfile('ops', '--profile', env)).toBeUndefined();
    // `~/` in AWS_CONFIG_FILE is HOME's, as the SDK reads it
    expect((await sharedProfiles({ HOME: home, AWS_CONFIG_FILE: '~/.aws/config' })).inConfig).toEqual(['ops']);
    expect(await missingProfile('x', 'AWS_PROFILE', { HOME: join(home, 'nowhere') })).toMatch(/; they hold no profile; create "x" \(aws configure sso/);
  });

  it('no profile asked for: the message as before (the ways to give credentials)', async () => {
    const e = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect((await credentialsError(e, undefined, {})).message).toMatch(/^no AWS credentials found to sign the admin API call \(SigV4\): set AWS_PROFILE/);
  });
});

/**
 * Found by s23: `tessera dlq list --profile x`, `tessera admins … --profile x` and `tessera init --from-organization --profile x`
 * said "no credentials: set AWS_PROFILE or pass --profile" (describeAwsError, awsFailure and init's own message knew no
 * profile). Now the same line as the admin API commands and doctor, exit 2.
 */
describe('a --profile that names no profile, in the commands that call AWS themselves', () => {
  const notFound = (source: string) => `AWS profile "x" (${source}) was not found: looked in ${join(dir, 'config')} (AWS_CONFIG_FILE) `
    + `and ${join(dir, 'credentials')} (AWS_SHARED_CREDENTIALS_FILE); profiles found: default, ops, dev; pass one of them, or create "x" (aws configure sso --profile x, or aws configure --profile x)`;

  it('tessera dlq list --profile x, and AWS_PROFILE=x', async () => {
    const { code, err } = await stderrOf(['dlq', 'list', '--profile', 'x']);
    expect(err).toBe(`error: sqs:ListQueues (prefix tessera-dlq-) failed: CredentialsProviderError: Could not load credentials from any providers (${notFound('--profile')})\n`);
    expect(code).toBe(2);
    process.env.AWS_PROFILE = 'x';
    try {
      expect((await stderrOf(['dlq', 'list'])).err).toContain(`(${notFound('AWS_PROFILE')})`);
    } finally {
      delete process.env.AWS_PROFILE;
    }
  });

  it('tessera init --from-organization --profile x', async () => {
    const output = join(tempDir('tessera-profile-init'), 'tessera.config.yaml');
    const { code, err } = await stderrOf(['init', '--from-organization', '--profile', 'x', '--yes', '--output', output]);
    expect(err).toBe(`error: --from-organization: Organizations DescribeOrganization failed: ${notFound('--profile')}\n`);
    expect(code).toBe(2);
  });

  it('tessera admins: the Identity Center calls of a client made with profile x', async () => {
    const failure = await findInstance(new SSOAdminClient({ region: 'us-east-1', profile: 'x' }), 'us-east-1', {}).then((): Error & { exitCode?: number } => new Error('no failure'), (e: unknown) => e as Error & { exitCode?: number });
    expect(failure.message).toBe(`sso:ListInstances failed: CredentialsProviderError: Could not load credentials from any providers\n  ${notFound('--profile')}`);
    expect(failure.exitCode).toBe(2);
    const none = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect((await awsFailure('sso:ListInstances', 'sso:ListInstances', none)).message).toMatch(/no AWS credentials: pass --profile <profile>/);
  });

  it('describeAwsError: a profile that is there, or none asked, keeps its line', async () => {
    const none = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(describeAwsError('sqs:ListQueues', none, await missingProfileOf('ops'))).toBe('sqs:ListQueues failed: CredentialsProviderError: Could not load credentials from any providers (no credentials: set AWS_PROFILE or pass --profile)');
    expect(describeAwsError('sqs:ListQueues', none)).toMatch(/\(no credentials: set AWS_PROFILE or pass --profile\)$/);
    expect(describeAwsError('sqs:ListQueues', none, await missingProfileOf('x'))).toContain(notFound('--profile'));
  });
});

/**
 * s24: the shared files are read by the SDK's own reader (@smithy/core/config loadSharedConfigFiles, the code of
 * @smithy/shared-ini-file-loader), no longer by an INI reader of ours, whose rules differed from AWS's: a section with no
 * setting, `[profile  x]` with two spaces and `[ profile x ]` were profiles to us and are none to the SDK, so a
 * `--profile` naming one was said to have "no credentials" instead of to be missing.
 */
describe('profiles as the SDK reads them', () => {
  it('a section without settings, [profile  x] and [ profile x ] are no profiles; the SDK\'s own credential provider agrees', async () => {
    const home = tempDir('tessera-profile-sdk-rules');
    const env = { AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') };
    writeFileSync(env.AWS_CONFIG_FILE, '[profile empty]\n[profile ops]\nregion = us-east-1\n[profile  spaced]\nregion = us-east-1\n[ profile padded ]\nregion = us-east-1\n[default]\n[sso-session corp]\nsso_region = us-east-1\n[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:5000\n');
    writeFileSync(env.AWS_SHARED_CREDENTIALS_FILE, '[dev] ; comment\naws_access_key_id = AKIADEVPROFILE000001\naws_secret_access_key = not-a-secret\n[blank]\n');
    expect(await sharedProfiles(env)).toEqual({ configFile: env.AWS_CONFIG_FILE, credentialsFile: env.AWS_SHARED_CREDENTIALS_FILE, inConfig: ['ops'], inCredentials: ['dev'] });
    for (const name of ['empty', 'spaced', 'padded', 'blank', 'default']) {
      expect(await missingProfile(name, '--profile', env)).toBe(`AWS profile "${name}" (--profile) was not found: looked in ${env.AWS_CONFIG_FILE} (AWS_CONFIG_FILE) and ${env.AWS_SHARED_CREDENTIALS_FILE} (AWS_SHARED_CREDENTIALS_FILE); `
        + `profiles found: ops, dev; pass one of them, or create "${name}" (aws configure sso --profile ${name}, or aws configure --profile ${name})`);
    }
    // The SDK's provider (fromIni, as every client with `profile` uses it) finds none of them either.
    const { fromIni } = await import('@aws-sdk/credential-providers');
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      for (const name of ['empty', 'spaced', 'blank']) await expect(fromIni({ profile: name, ignoreCache: true })()).rejects.toThrow(/could not be found|Could not resolve credentials using profile: \[/);
    } finally {
      process.env = saved;
    }
  });
});
