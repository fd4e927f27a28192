import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TENANTS, readTenantsFile } from '../../../lib/cli/serve-tenants.js';
import { configWith } from '../../support/config-with.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * `tessera serve --tenants-file` read its file with a reader of its own (readFileSync, the yaml package's `parse`),
 * while `tessera tenants apply -f` reads strictly: bytes that are not UTF-8 went on as U+FFFD in a name, a tag YAML cannot
 * resolve was dropped (its text taken, a warning on Node's stderr), a value YAML read as a number was shown as that number,
 * an empty file was "found nothing", and `-` was a file named "-". Both now read through lib/cli/strict-yaml-file.ts.
 */
const config = configWith();
const dir = tempDir('tessera-serve-tenants-');
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const refusal = (call: Promise<unknown>) => call.then(() => '(accepted)', (e: Error) => e.message);

describe('tessera serve --tenants-file: the strict YAML reader tenants apply uses', () => {
  it('refuses bytes that are not UTF-8, naming the line, column and byte (they were read as U+FFFD and served in a name)', async () => {
    const path = file('latin1.yaml', Buffer.concat([Buffer.from('- tenantId: acme\n  tier: starter\n  name: "Caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    expect(await refusal(readTenantsFile(path, config))).toBe(`--tenants-file ${path}: line 3, column 13: byte 0xe9 is not UTF-8; save the file as UTF-8; an example: tessera serve --example-tenants`);
  });

  it('refuses a tag YAML cannot resolve, naming its line (it was dropped and the text after it taken)', async () => {
    const path = file('tag.yaml', '- tenantId: acme\n  tier: !tier starter\n');
    expect(await refusal(readTenantsFile(path, config))).toMatch(new RegExp(`^--tenants-file ${path}: line 2, column 9: .*\\(tessera serve reads plain YAML: remove the tag\\): "tier: !tier starter"`));
  });

  it('shows a value YAML read as a number as it was written, with the quoting that keeps it text', async () => {
    const path = file('number.yaml', '- tenantId: acme\n  tier: starter\n  name: 0123\n');
    expect(await refusal(readTenantsFile(path, config))).toMatch(new RegExp(`^--tenants-file ${path}: \\[0\\]\\.name = 0123 \\(YAML reads it as 123; quote it for the text: "0123"\\): `));
  });

  it('a number where the schema wants a number is shown as the number, with the schema\'s message', async () => {
    const path = file('max-tokens.yaml', '- tenantId: acme\n  tier: starter\n  gateway: { maxTokens: -1 }\n');
    expect(await refusal(readTenantsFile(path, config))).toMatch(new RegExp(`^--tenants-file ${path}: \\[0\\]\\.gateway\\.maxTokens = -1: `));
  });

  // session 45: what the field takes, in the admin API's words (lib/request-issues.ts), not zod's `Invalid input: expected string, received array`.
  it('a list where the schema wants text says so', async () => {
    const path = file('name-list.yaml', '- tenantId: acme\n  tier: starter\n  name: [Acme]\n');
    expect(await refusal(readTenantsFile(path, config))).toMatch(new RegExp(`^--tenants-file ${path}: \\[0\\]\\.name = \\["Acme"\\]: must be a string, not a list$`, 'm'));
  });

  // Until 2026-12-07 a key responseCache lacks was dropped: `scop: tenant` served the tenant with scope caller, and
  // `ttl: 60` was "ttlSeconds = (missing)" alone. The admin API's PUT/PATCH refuse it (gateway-policy-request.ts).
  it('refuses a key gateway.responseCache lacks, naming it and the nearest known one', async () => {
    const typo = file('cache-typo.yaml', '- tenantId: acme\n  tier: starter\n  gateway:\n    responseCache: { ttlSeconds: 60, scop: tenant }\n');
    expect(await refusal(readTenantsFile(typo, config))).toMatch(new RegExp(`^--tenants-file ${typo}: \\[0\\]\\.gateway\\.responseCache\\.scop: unknown key \\(did you mean scope\\?\\); known keys: ttlSeconds, maxTtlSeconds, scope`));
    const ok = file('cache-ok.yaml', '- tenantId: acme\n  tier: starter\n  gateway:\n    responseCache: { ttlSeconds: 60, scope: tenant }\n');
    expect((await readTenantsFile(ok, config))[0]!.gateway?.responseCache).toEqual({ ttlSeconds: 60, scope: 'tenant' });
  });

  it('refuses an empty file as empty, saying what it holds', async () => {
    const path = file('empty.yaml', '# nothing yet\n');
    expect(await refusal(readTenantsFile(path, config))).toMatch(new RegExp(`^--tenants-file ${path}: the file is empty \\(it holds a list of tenants: `));
  });

  it('reads - from the standard input', async () => {
    const stdin = Readable.from([Buffer.from('- tenantId: acme\n  tier: starter\n')]);
    expect((await readTenantsFile('-', config, stdin)).map((t) => [t.tenantId, t.tier])).toEqual([['acme', 'starter']]);
  });
});

/**
 * A `__proto__` key of a record of an entry (gateway.bedrockInferenceProfiles, stackOutputs, customizations): YAML keeps
 * it as an own key, and zod's z.record skipped it unchecked, so serve started with the tenant's policy without it (the
 * tenant's Bedrock calls went unbilled to its profile) and said nothing. As the admin API's PUT/PATCH since 9fb1e014
 * (lib/proto-key.ts withoutProtoKey): refused, naming the key.
 */
describe('tessera serve --tenants-file: a record\'s __proto__ key is refused, not dropped', () => {
  const arn = 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6';
  it.each([
    ['gateway.bedrockInferenceProfiles', `  gateway:\n    bedrockInferenceProfiles:\n      __proto__: ${arn}\n      bedrock/amazon.nova-lite: ${arn}\n`, `"${arn}"`],
    ['stackOutputs', '  stackOutputs:\n    __proto__: x\n    BucketName: b\n', '"x"'],
    ['customizations', '  customizations:\n    __proto__: {}\n', '{}'],
  ])('%s.__proto__', async (at, yaml, value) => {
    const path = file(`proto-${at}.yaml`, `- tenantId: acme\n  tier: starter\n${yaml}`);
    expect(await refusal(readTenantsFile(path, config))).toBe(`--tenants-file ${path}: [0].${at}.__proto__ = ${value}: the key __proto__ cannot be kept by tessera serve; use another key`
      + '\n  fix these entries (fields: TenantRecord in lib/tenant-record.ts; an example: tessera serve --example-tenants)');
  });
});

describe('tessera serve --example-tenants', () => {
  it('shows the users\' tokens-per-minute limit: uncommented, it is read as userLimits.tokensPerMinute', async () => {
    const line = /^( *)# (tokensPerMinute: 20000) /m.exec(EXAMPLE_TENANTS);
    expect(line, 'a commented tokensPerMinute line under userLimits').not.toBeNull();
    const path = file('example-tpm.yaml', EXAMPLE_TENANTS.replace(line![0], `${line![1]}${line![2]} `));
    const acme = (await readTenantsFile(path, config)).find((t) => t.tenantId === 'acme')!;
    expect(acme.gateway?.userLimits).toEqual({ requestsPerMinute: 60, tokensPerMinute: 20000, tokensPerDay: 200000, monthlyCostUsd: 20 });
  });
});
