import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledEntry, compileCacheEnv, tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `npm run rehearse:deploy-guide` (scripts/rehearse-deploy-guide.ts) keeps the README's deploy
 * guide true: it runs the guide's commands through the real CLI against moto, and this test reads
 * its transcript step by step. The script checks each step itself too (exit 1 naming the step);
 * the assertions here pin what the README quotes.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const STACK_LINE = /^\s+at /m;
let run: { code: number; stdout: string; stderr: string };
let tmp: string;

/** The transcript between `### <heading>` and the next heading. */
function step(heading: string): string {
  const start = run.stdout.indexOf(`### ${heading}`);
  if (start < 0) throw new Error(`no step "${heading}" in the transcript:\n${run.stdout}\n${run.stderr}`);
  const next = run.stdout.indexOf('\n### ', start + 4);
  return run.stdout.slice(start, next < 0 ? undefined : next);
}

beforeAll(async () => {
  // A private TMPDIR: whatever the script leaves behind would be seen here. Node's compile cache
  // (test/support/cli-bundle.ts) for the script and the CLI processes it starts.
  tmp = tempDir('tessera-test-rehearsal-tmp-');
  // The script and the CLI it runs, each bundled without tsx (test/support/cli-bundle.ts: the same
  // programs; tsx's hooks on every module the script and each `tessera` start load were most of
  // their CPU). bin/tessera.mjs itself, the entry `npx tessera` starts, is run by serve-cli and
  // cli-failures; `npm run rehearse:deploy-guide` runs the script and the CLI through tsx.
  const [script, cli] = await Promise.all([
    bundledEntry('scripts/rehearse-deploy-guide.ts', ['scripts/rehearse-deploy-guide.ts', 'scripts/deploy-guide-rehearsal.ts', 'test/support', 'test/integration/support', 'test/unit/users/support.ts']),
    tesseraBundle(),
  ]);
  // The script in a process group of its own: a timeout ends it and every process it started (its
  // `npx tessera` runs, serve), where a SIGKILL of the script alone left a CLI run orphaned and
  // running (seen at load ~25, the script past 170 s).
  run = await new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...compileCacheEnv(), TMPDIR: tmp, TESSERA_REHEARSAL_CLI: cli },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch { /* the group is gone */ }
    };
    const timer = setTimeout(killGroup, 170_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      killGroup(); // nothing of the group outlives the file, whatever the script left
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}, 180_000);

describe('the deploy guide, rehearsed against moto', () => {
  it('passes, prints no error or stack trace, and leaves no temp dir behind', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(STACK_LINE);
    expect(run.stdout).toMatch(/\n# Rehearsal passed in \d+ s; moto, the fake upstream and tessera serve stopped, temp dir removed\.\n$/);
    expect(readdirSync(tmp).filter((name) => name.startsWith('tessera-'))).toEqual([]);
  });

  it('step 1: tessera init --yes writes the config, which synthesizes without placeholders', () => {
    const text = step('Step 1.');
    expect(text).toMatch(/^\$ npx tessera init --yes --management-account-id 444444444444 --organization-id o-\w+ --root-id r-\w+ --platform-account-id 555555555555 --workload-account-id 666666666666 /m);
    expect(text).toMatch(/^Wrote tessera\.config\.yaml$/m);
    expect(text).toMatch(/^synthesized TesseraOrganization, TesseraPlatform and 3 tier blueprints \([\d.]+ s\); no placeholder left$/m);
    // what moto cannot answer is said, not hidden
    expect(text).toMatch(/moto has no Bedrock GetFoundationModelAvailability and answers Service Quotas for VPC only/);
  });

  it('step 5: the synthesized provisioning-role template creates TesseraProvisioning in the workload account', () => {
    const text = step('Step 5.');
    expect(text).toMatch(/"StackId": "arn:aws:cloudformation:us-east-1:666666666666:stack\/TesseraWorkloadProvisioning\//);
    expect(text).toMatch(/"CREATE_COMPLETE"/);
    expect(text).toMatch(/"OutputValue": "arn:aws:iam::666666666666:role\/TesseraProvisioning"/);
  });

  it('step 7: doctor fails only for the platform admins, with the fix of step 8 (exit 1)', () => {
    const text = step('Step 7.');
    const failed = text.split('\n').filter((l) => l.startsWith('✗'));
    // moto has no PostgreSQL orderable options: each tier's RDS line fails here (its ElastiCache line warns)
    expect(failed).toEqual([
      expect.stringMatching(/^✗ RDS db\.t4g\.medium tier starter \(us-east-1\) +tiers\.starter\.database\.instanceClass db\.t4g\.medium: RDS offers no db\.t4g\.medium /),
      expect.stringMatching(/^✗ RDS db\.m7g\.large tier professional \(us-east-1\) /),
      expect.stringMatching(/^✗ RDS db\.r7g\.xlarge tier enterprise \(us-east-1\) /),
      expect.stringMatching(/^✗ Platform admins \(TesseraPlatformAdmin\) +no permission set TesseraPlatformAdmin/),
    ]);
    // the estate's organization has no centralized root access, and moto's Service Quotas cannot answer the accounts quota
    expect(text.split('\n').filter((l) => l.startsWith('!'))).toEqual([
      expect.stringMatching(/^! Centralized root access +trusted access for iam\.amazonaws\.com is not enabled; /),
      expect.stringMatching(/^! Organization accounts quota +1 account in the organization; the quota is unread: /),
      ...['starter', 'professional', 'enterprise'].map((t) => expect.stringMatching(new RegExp(`^! ElastiCache cache\\.\\S+ tier ${t} \\(us-east-1\\) +could not check whether us-east-1 offers tiers\\.${t}\\.cache\\.nodeType `))),
    ]);
    expect(text).toMatch(/^✓ EC2 m7i\.xlarge tier enterprise \(us-east-1\) system-nodes +offered in every usable zone of us-east-1 /m);
    expect(text).toMatch(/^ {4}fix: npx tessera admins create --user <user name>$/m);
    expect(text).toMatch(/^✓ TesseraProvisioning in workload account +exists and trusts the management account 444444444444/m);
    expect(text).toMatch(/^doctor: \d+ pass, 4 fail, 5 warn/m);
    expect(text).toMatch(/^exit 1$/m);
  });

  it('step 8: admins create and list, then doctor passes but for the RDS and ElastiCache offers moto lacks', () => {
    const text = step('Step 8.');
    expect(text).toMatch(/^TesseraPlatformAdmin: created \(arn:aws:sso:::/m);
    expect(text).toMatch(/^alice on account 555555555555: assigned; provisioned$/m);
    expect(text).toMatch(/^alice +USER +\S+ +555555555555$/m);
    expect(text).toMatch(/^✓ Platform admins \(TesseraPlatformAdmin\) +1 assignment\(s\) on the platform account 555555555555 /m);
    expect(text).toMatch(/^doctor: \d+ pass, 3 fail, 5 warn/m);
    expect(text.split('\n').filter((l) => l.startsWith('✗')).every((l) => /^✗ RDS db\.\S+ tier /.test(l))).toBe(true);
  });

  it('step 9 points to the onboarding demo', () => {
    expect(step('Step 9.')).toMatch(/npm run demo:onboarding/);
  });

  it('step 10: the first admin invited through the admin API, scripted first sign-in with TOTP, tessera serve with the pool\'s issuer and JWKS, a chat completion', () => {
    const text = step('Step 10.');
    expect(text).toMatch(/^\$ TESSERA_API_URL=\$\(out AdminApiUrl\) npx tessera users invite --tenant acme --email dev@acme\.example\.com --role admin$/m);
    expect(text).toMatch(/^invited dev@acme\.example\.com to tenant acme as admin \(user [0-9a-f-]{36}, status FORCE_CHANGE_PASSWORD\)$/m);
    expect(text).toMatch(/^event "Tenant User Created" sent to the platform bus by the admin API$/m);
    expect(text).toMatch(/^Authenticator app registered: from now on, sign-in asks for its code\.$/m);
    expect(text).toMatch(/^signed in as dev@acme\.example\.com \(tenant acme\); the ID token below is your API key/m);
    expect(text).toMatch(/^\$ npx tessera serve .*--jwt-issuer https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\/us-east-1_\w+ --jwt-audience \w+ --jwks-url http:\/\/127\.0\.0\.1:\d+\/us-east-1_\w+\/\.well-known\/jwks\.json &$/m);
    expect(text).toMatch(/^tokens: verified as the deployed authorizer does/m);
    expect(text).toMatch(/^echo: Hello from my first Tessera credential$/m);
    expect(text).toMatch(/^\{"prompt_tokens":\d+,"completion_tokens":\d+,"total_tokens":\d+\}$/m);
    expect(text).toMatch(/^AuthenticationError: 401 no key in this gateway's key set matches the token's kid "tessera-dev" and alg "ES256"$/m);
    expect(text).toMatch(/^tessera serve stopped \(exit 0\)$/m);
  });
});
