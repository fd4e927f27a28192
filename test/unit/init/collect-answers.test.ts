import { describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { collectAnswers, REQUIRED_FIELDS, type Asker, type InitFlags } from '../../../lib/cli/init/collect-answers.js';
import { REQUIRED_FLAGS } from './required-flags.js';


async function cliError(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

/** An asker that must not be called. */
const noQuestions: Asker = { ask: () => { throw new Error('asked a question'); } };

describe('collectAnswers without prompts (--yes)', () => {
  it('takes the flags and the defaults of everything optional', async () => {
    // WHEN
    const answers = await collectAnswers(REQUIRED_FLAGS);
    // THEN
    expect(answers).toEqual({
      managementAccountId: '123456789012', organizationId: 'o-a1b2c3d4e5', rootId: 'r-ab12',
      platformAccountId: '234567890123', workloadAccountId: '345678901234',
      homeRegion: 'eu-west-1', allowedRegions: ['eu-west-1', 'eu-central-1'],
      availabilityZones: {}, // none pinned: the platform VPC takes Fn::GetAZs at deploy time
      tiers: ['starter', 'professional', 'enterprise'],
      baseModelsBucket: 'tessera-base-models-234567890123',
      providerSecrets: { openai: 'tessera/providers/openai', huggingface: 'tessera/providers/huggingface' },
      accountEmail: 'aws+tessera-{tenantId}@platform.acme.test',
    });
  });

  it('needs --account-email only while an account-isolation tier is kept, and refuses the default\'s domain or a fixed address', async () => {
    const { accountEmail: _, ...withoutEmail } = REQUIRED_FLAGS;
    expect((await cliError(collectAnswers(withoutEmail))).message).toMatch(/^missing --account-email: --yes never prompts, so give each as a flag/);
    const vpcTiers = await collectAnswers({ ...withoutEmail, tiers: 'starter,professional' });
    expect(vpcTiers.accountEmail).toBeUndefined();
    expect((await cliError(collectAnswers({ ...REQUIRED_FLAGS, accountEmail: 'aws+tessera-{tenantId}@example.com' }))).message)
      .toBe('--account-email "aws+tessera-{tenantId}@example.com": is on the embedded default\'s placeholder domain (@example.com): give an address of your platform team\'s own domain, e.g. aws+tessera-{tenantId}@platform.acme.com');
    expect((await cliError(collectAnswers({ ...REQUIRED_FLAGS, accountEmail: 'aws@platform.acme.test' }))).message).toMatch(/^--account-email "aws@platform\.acme\.test": must contain \{tenantId\}/);
    // Every problem of the value in one run (it named the missing {tenantId}; the next run, fixed, the placeholder domain).
    expect((await cliError(collectAnswers({ ...REQUIRED_FLAGS, accountEmail: 'aws@example.com' }))).message.split('\n')).toEqual([
      '2 problems with the flags of tessera init:',
      expect.stringMatching(/^ {2}- --account-email "aws@example\.com": must contain \{tenantId\}, which each tenant's id replaces/),
      '  - --account-email "aws@example.com": is on the embedded default\'s placeholder domain (@example.com): give an address of your platform team\'s own domain, e.g. aws+tessera-{tenantId}@platform.acme.com',
    ]);
    // A fixed address that is no email either: both said, with another flag's problem in the same list.
    const both = (await cliError(collectAnswers({ ...REQUIRED_FLAGS, accountEmail: 'platform team', homeRegion: 'nowhere' }))).message;
    expect(both).toMatch(/^3 problems with the flags of tessera init:\n/);
    expect(both).toContain('--account-email "platform team": must contain {tenantId}');
    expect(both).toContain('--account-email "platform team": is an address which has 0 "@"; an email address has exactly one');
  });

  it.each(REQUIRED_FIELDS.map((f) => [f.flag, f.key] as const))('without %s: exit 2 naming that flag only', async (flag, key) => {
    // GIVEN
    const flags: InitFlags = { ...REQUIRED_FLAGS, [key]: undefined };
    // WHEN
    const error = await cliError(collectAnswers(flags));
    // THEN
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(new RegExp(`^missing ${flag}: --yes never prompts, so give each as a flag`));
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('without any flag: one line naming every required flag, with the --from-organization hint', async () => {
    const error = await cliError(collectAnswers({}));
    expect(error.message).toBe('missing --management-account-id, --organization-id, --root-id, --platform-account-id, --workload-account-id, --home-region, --allowed-regions, --account-email: '
      + '--yes never prompts, so give each as a flag (--from-organization reads the organization id, root id and management account id with your credentials)');
  });

  it('says why nothing is asked when stdin is not a terminal', async () => {
    const error = await cliError(collectAnswers({ ...REQUIRED_FLAGS, rootId: undefined }, { noPromptReason: 'stdin is not a terminal' }));
    expect(error.message).toMatch(/^missing --root-id: stdin is not a terminal, so give each as a flag/);
  });

  it('lists every bad flag and every missing one at once, each naming the flag and the value', async () => {
    // WHEN
    const error = await cliError(collectAnswers({
      managementAccountId: '1234', organizationId: 'o-exampleorg1', homeRegion: 'eu-west-1', allowedRegions: 'us-east-1',
      tiers: 'gold', baseModelsBucket: 'Nope', availabilityZones: ['eu-west-1=eu-west-2a'], providerSecret: ['cohere=x'],
    }));
    // THEN
    expect(error.message.split('\n')).toEqual([
      '8 problems with the flags of tessera init:',
      '  - --management-account-id "1234": must be a 12-digit AWS account id such as 123456789012',
      '  - --organization-id "o-exampleorg1": is the embedded default\'s placeholder: give your organization\'s id',
      '  - --allowed-regions "us-east-1": must include the home region eu-west-1: add it to the list',
      '  - --availability-zones "eu-west-1=eu-west-2a": "eu-west-2a" is not a zone of eu-west-1: write eu-west-1 followed by the zone letter, e.g. eu-west-1a',
      expect.stringMatching(/^ {2}- --tiers "gold": "gold" is not a default tier/),
      expect.stringMatching(/^ {2}- --base-models-bucket "Nope": must be an S3 bucket name/),
      expect.stringMatching(/^ {2}- --provider-secret "cohere=x": must be <provider>=<secret name>/),
      expect.stringMatching(/^ {2}- missing --root-id, --platform-account-id, --workload-account-id, --account-email: /),
    ]);
  });

  // refused an opt-in --home-region while a kept tier isolated by account (Tessera enabled no region); the
  // onboarding enables the account tier's opt-in regions in each new account (*Enable regions*), so init takes it.
  it('takes an opt-in --home-region with an account tier kept: the onboarding enables it in each new account', async () => {
    const answers = await collectAnswers({ ...REQUIRED_FLAGS, homeRegion: 'me-central-1', allowedRegions: 'me-central-1' });
    expect(answers.homeRegion).toBe('me-central-1');
    expect(answers.tiers).toContain('enterprise');
  });

  it('keeps only the named tiers', async () => {
    const answers = await collectAnswers({ ...REQUIRED_FLAGS, tiers: 'enterprise' });
    expect(answers.tiers).toEqual(['enterprise']);
  });

  it('takes --availability-zones per region (repeatable) and defaults the regions not named', async () => {
    // WHEN
    const answers = await collectAnswers({ ...REQUIRED_FLAGS, availabilityZones: ['eu-central-1=eu-central-1b,eu-central-1c', 'eu-west-1=eu-west-1a,eu-west-1b'] });
    // THEN
    expect(answers.availabilityZones).toEqual({ 'eu-west-1': ['eu-west-1a', 'eu-west-1b'], 'eu-central-1': ['eu-central-1b', 'eu-central-1c'] });
  });

  it.each([
    [['us-east-1=us-east-1a,us-east-1b'], /--availability-zones "us-east-1=us-east-1a,us-east-1b": us-east-1 is not in --allowed-regions \(eu-west-1,eu-central-1\)/],
    [['eu-west-1=eu-west-1a,eu-west-1b', 'eu-west-1=eu-west-1c,eu-west-1b'], /names eu-west-1 a second time/],
    [['eu-west-1=eu-west-1a'], /lists 1 zone\(s\) of the home region/],
    [['eu-west-1:eu-west-1a'], /must be <region>=<zone>,<zone>/],
  ])('refuses --availability-zones %j', async (zones, message) => {
    const error = await cliError(collectAnswers({ ...REQUIRED_FLAGS, availabilityZones: zones }));
    expect(error.message).toMatch(message);
  });

  it('takes the bucket and provider secrets from flags', async () => {
    const answers = await collectAnswers({ ...REQUIRED_FLAGS, baseModelsBucket: 's3://acme-weights', providerSecret: ['openai=tessera/providers/openai-prod'] });
    expect(answers.baseModelsBucket).toBe('acme-weights');
    expect(answers.providerSecrets).toEqual({ openai: 'tessera/providers/openai-prod', huggingface: 'tessera/providers/huggingface' });
  });

  it('takes the organization read by --from-organization for the three flags left out', async () => {
    // GIVEN
    const organization = { organizationId: 'o-zzzzzzzzzz', rootId: 'r-zz99', managementAccountId: '999999999999' };
    // WHEN
    const answers = await collectAnswers({ ...REQUIRED_FLAGS, organizationId: undefined, rootId: undefined, managementAccountId: undefined }, { organization });
    // THEN
    expect(answers).toMatchObject(organization);
  });

  it('refuses a flag that contradicts the organization read by --from-organization', async () => {
    const organization = { organizationId: 'o-zzzzzzzzzz', rootId: 'r-ab12', managementAccountId: '123456789012' };
    const error = await cliError(collectAnswers(REQUIRED_FLAGS, { organization }));
    expect(error.message).toBe('--organization-id "o-a1b2c3d4e5" differs from what --from-organization read with your credentials (o-zzzzzzzzzz): leave out one of them');
  });

  it('asks for the account tenants\' root email when an account tier is kept and the flag is not given, until the answer is one', async () => {
    // GIVEN every other value as a flag, and answers to the one question: a fixed address (refused), then a template
    const { accountEmail: _, ...flags } = REQUIRED_FLAGS;
    const answers = ['aws@platform.acme.test', 'aws+tessera-{tenantId}@platform.acme.test'];
    const asked: string[] = [];
    const refusals: string[] = [];
    const asker: Asker = {
      async ask(question, _default, parse) {
        asked.push(question);
        for (;;) {
          try {
            return parse(answers.shift()!);
          } catch (e) {
            refusals.push((e as Error).message);
          }
        }
      },
    };
    // WHEN
    const result = await collectAnswers({ ...flags, tiers: 'enterprise', baseModelsBucket: 'b-1', availabilityZones: ['eu-west-1=eu-west-1a,eu-west-1b', 'eu-central-1=eu-central-1a'], providerSecret: ['openai=tessera/providers/a', 'huggingface=tessera/providers/b'] }, { asker });
    // THEN
    expect(asked).toEqual(['Root email of each enterprise tenant\'s AWS account, an address of your platform team\'s with {tenantId}, e.g. aws+tessera-{tenantId}@platform.acme.com']);
    expect(refusals).toEqual([expect.stringMatching(/^must contain \{tenantId\}/)]);
    expect(result.accountEmail).toBe('aws+tessera-{tenantId}@platform.acme.test');
  });

  it('asks nothing when the flags give everything', async () => {
    const answers = await collectAnswers({ ...REQUIRED_FLAGS, tiers: 'starter', baseModelsBucket: 'b-1', availabilityZones: ['eu-west-1=eu-west-1a,eu-west-1b', 'eu-central-1=eu-central-1a'], providerSecret: ['openai=tessera/providers/a', 'huggingface=tessera/providers/b'] }, { asker: noQuestions });
    expect(answers.tiers).toEqual(['starter']);
  });
});
