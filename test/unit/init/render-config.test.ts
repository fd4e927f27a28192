import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isMap, isPair, isScalar, parseDocument, Scalar, type YAMLMap } from 'yaml';
import { describe, expect, it } from 'vitest';
import { collectAnswers, type InitAnswers } from '../../../lib/cli/init/collect-answers.js';
import { imageInRegion, renderConfig } from '../../../lib/cli/init/render-config.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { loadConfigReport } from '../../../lib/config/load-config.js';

/** Loads a written file as the CDK app does: placeholders of the embedded default refused. */
const loadConfig = (sources: { file: string }) => loadConfigReport(sources, { refusePlaceholders: true }).config;
import { tempDir } from '../../support/temp-dirs.js';
import { REQUIRED_FLAGS } from './required-flags.js';

function writeAndLoad(text: string) {
  const file = join(tempDir('tessera-test-init-render-'), 'tessera.config.yaml');
  writeFileSync(file, text);
  return loadConfig({ file });
}

function topKeys(text: string): string[] {
  return ((parseDocument(text).contents as YAMLMap).items).map((p) => String((p.key as Scalar).value));
}

describe('imageInRegion', () => {
  it('replaces the region segment of an ECR image URI and keeps account, repository and tag', () => {
    expect(imageInRegion('763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.1.0-gpu', 'ap-southeast-2'))
      .toBe('763104351884.dkr.ecr.ap-southeast-2.amazonaws.com/huggingface-pytorch-training:2.1.0-gpu');
  });
  it('leaves a URI without an ECR host alone', () => {
    expect(imageInRegion('public.ecr.aws/x/y:1', 'eu-west-1')).toBe('public.ecr.aws/x/y:1');
  });
});

describe('renderConfig', () => {
  it('writes only the engineer\'s values when everything else is the default, and it loads', async () => {
    // GIVEN
    const answers = await collectAnswers(REQUIRED_FLAGS);
    // WHEN
    const text = renderConfig(answers);
    // THEN
    expect(topKeys(text)).toEqual(['organization', 'platformAccountId', 'workloadAccountId', 'homeRegion', 'allowedRegions', 'fineTuning']);
    expect(parseDocument(text).toJS().organization).toEqual({ managementAccountId: '123456789012', organizationId: 'o-a1b2c3d4e5', rootId: 'r-ab12', accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' });
    const config = writeAndLoad(text);
    expect(Object.keys(config.tiers)).toEqual(['starter', 'professional', 'enterprise']);
    expect(config.defaultTier).toBe('starter');
    expect(config.gateway).toEqual(DEFAULT_CONFIG.gateway);
  });

  it('double-quotes every account id, so YAML never reads one as a number', async () => {
    const text = renderConfig(await collectAnswers({ ...REQUIRED_FLAGS, managementAccountId: '012345678901' }));
    expect(text).toMatch(/^ {2}managementAccountId: "012345678901"$/m);
    expect(text).toMatch(/^platformAccountId: "234567890123"$/m);
    expect(text).toMatch(/^workloadAccountId: "345678901234"$/m);
  });

  it('puts a comment above the document and above each section', async () => {
    // GIVEN
    const text = renderConfig(await collectAnswers({ ...REQUIRED_FLAGS, tiers: 'professional', providerSecret: ['openai=tessera/providers/openai-prod'], availabilityZones: ['eu-west-1=eu-west-1a,eu-west-1b'] }));
    // WHEN
    const lines = text.split('\n');
    // THEN
    expect(lines[0]).toBe('# Tessera platform configuration, written by `tessera init`.');
    const keyLines = lines.flatMap((line, i) => (/^[a-zA-Z]+:/.test(line) ? [i] : []));
    expect(keyLines).toHaveLength(10);
    for (const i of keyLines) expect(lines[i - 1], lines[i]).toMatch(/^# \S/);
    expect(topKeys(text)).toEqual(['organization', 'platformAccountId', 'workloadAccountId', 'homeRegion', 'allowedRegions', 'availabilityZones', 'gateway', 'fineTuning', 'defaultTier', 'tiers']);
  });

  it('says which stack holds the trail: TesseraPlatform (synthesized there, an organization trail only in the management account), not TesseraOrganization', async () => {
    // GIVEN the comments above organization and platformAccountId
    const text = renderConfig(await collectAnswers({ ...REQUIRED_FLAGS }));
    const above = (key: string) => { const lines = text.split('\n'); const i = lines.findIndex((l) => l.startsWith(`${key}:`)); let j = i; while (lines[j - 1]?.startsWith('#')) j--; return lines.slice(j, i).join(' '); };
    // THEN TesseraOrganization's comment claims no trail (its template has OUs, SCPs, a role and a parameter), TesseraPlatform's names it
    expect(above('organization')).toMatch(/TesseraOrganization deploys to the management account: OUs per tier, SCP guardrails/);
    expect(above('organization')).not.toMatch(/trail/);
    expect(above('platformAccountId')).toMatch(/audit # bucket and trail \(an organization trail if this is the management account\)/);
  });

  // Found by a new user's trial (s40h): the comment said `The tier a tenant gets when none is named`, but nothing onboards
  // without a tier (tenants create refuses it without --tier; apply's entries name theirs).
  it('says above defaultTier that it must name a tier of the file and that no onboarding falls back on it', async () => {
    const text = renderConfig(await collectAnswers({ ...REQUIRED_FLAGS, tiers: 'professional' }));
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.startsWith('defaultTier:'));
    let j = i;
    while (lines[j - 1]?.startsWith('#')) j--;
    const comment = lines.slice(j, i).join(' ');
    expect(lines[i]).toBe('defaultTier: professional');
    expect(comment).toMatch(/Must name a tier of this file: the default's \(starter\) is removed below\. No onboarding falls back on it # \(tessera tenants create needs --tier/);
    expect(comment).not.toMatch(/a tenant gets/);
  });

  it('restates the base models with the weights bucket in the platform account and the home region\'s images', async () => {
    // GIVEN
    const answers = await collectAnswers(REQUIRED_FLAGS);
    // WHEN
    const text = renderConfig(answers);
    const config = writeAndLoad(text);
    // THEN
    expect(config.fineTuning.baseModels.map((m) => m.id)).toEqual(DEFAULT_CONFIG.fineTuning.baseModels.map((m) => m.id));
    for (const [i, model] of config.fineTuning.baseModels.entries()) {
      const original = DEFAULT_CONFIG.fineTuning.baseModels[i];
      expect(model.weightsS3Uri).toBe(`s3://tessera-base-models-234567890123/${model.id}/`);
      expect(model.trainingImage).toBe(original.trainingImage.replace('.us-east-1.', '.eu-west-1.'));
      expect(model.servingImage).toBe(original.servingImage.replace('.us-east-1.', '.eu-west-1.'));
      expect(model.trainingImage).toMatch(/^763104351884\.dkr\.ecr\.eu-west-1\.amazonaws\.com\//);
    }
    expect(text).toMatch(/confirm each tag is still\n# published there/);
  });

  it('with every default tier kept, the closing comment says no tiers: key is written and where to add one (a new user looked for it)', async () => {
    const text = renderConfig(await collectAnswers(REQUIRED_FLAGS));
    expect(parseDocument(text).get('tiers')).toBeUndefined();
    expect(text).toMatch(/under a top-level tiers: key \(none is written here: every default tier is kept as it is\),\n# e\.g\. tiers\.\w+\.limits\.requestsPerMinute, or add a tier of your own there \(docs\/configuration\.md\)\.\n$/);
  });

  it('uses --base-models-bucket for the weights', async () => {
    const config = writeAndLoad(renderConfig(await collectAnswers({ ...REQUIRED_FLAGS, baseModelsBucket: 'acme-weights' })));
    expect(config.fineTuning.baseModels.map((m) => m.weightsS3Uri)).toEqual(['s3://acme-weights/llama-3.1-8b-instruct/', 's3://acme-weights/mistral-7b-instruct/']);
  });

  it.each([
    ['starter,professional,enterprise', [], 'starter'],
    ['professional,enterprise', ['starter'], 'professional'],
    ['starter', ['professional', 'enterprise'], 'starter'],
    ['enterprise', ['starter', 'professional'], 'enterprise'],
  ])('--tiers %s removes %j with null and sets the default tier %s', async (tiers, removed, defaultTier) => {
    // WHEN
    const text = renderConfig(await collectAnswers({ ...REQUIRED_FLAGS, tiers }));
    const config = writeAndLoad(text);
    // THEN
    const written = parseDocument(text).toJS() as { tiers?: Record<string, null>; defaultTier?: string };
    expect(written.tiers ?? {}).toEqual(Object.fromEntries(removed.map((t) => [t, null])));
    expect(written.defaultTier).toBe(defaultTier === 'starter' ? undefined : defaultTier);
    expect(Object.keys(config.tiers)).toEqual(tiers.split(','));
    expect(config.defaultTier).toBe(defaultTier);
    expect(config.tiers[tiers.split(',')[0]]).toEqual(DEFAULT_CONFIG.tiers[tiers.split(',')[0]]);
  });

  it('writes only the provider secrets that differ from the default; the base URL stays the default\'s', async () => {
    // WHEN
    const text = renderConfig(await collectAnswers({ ...REQUIRED_FLAGS, providerSecret: ['huggingface=tessera/providers/hf-prod'] }));
    // THEN
    expect(parseDocument(text).toJS().gateway).toEqual({ providers: { huggingface: { apiKeySecretId: 'tessera/providers/hf-prod' } } });
    const config = writeAndLoad(text);
    expect(config.gateway.providers.huggingface).toEqual({ baseUrl: DEFAULT_CONFIG.gateway.providers.huggingface.baseUrl, apiKeySecretId: 'tessera/providers/hf-prod' });
    expect(config.gateway.providers.openai).toEqual(DEFAULT_CONFIG.gateway.providers.openai);
  });

  it('round-trips every value through loadConfig', async () => {
    // GIVEN
    const answers: InitAnswers = await collectAnswers({
      ...REQUIRED_FLAGS, homeRegion: 'ap-southeast-2', allowedRegions: 'ap-southeast-2,us-west-2',
      availabilityZones: ['ap-southeast-2=ap-southeast-2b,ap-southeast-2c'], tiers: 'starter,enterprise',
    });
    // WHEN
    const config = writeAndLoad(renderConfig(answers));
    // THEN
    expect(config.organization).toEqual({ ...DEFAULT_CONFIG.organization, managementAccountId: '123456789012', organizationId: 'o-a1b2c3d4e5', rootId: 'r-ab12', accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' });
    expect(config.platformAccountId).toBe('234567890123');
    expect(config.workloadAccountId).toBe('345678901234');
    expect(config.homeRegion).toBe('ap-southeast-2');
    expect(config.allowedRegions).toEqual(['ap-southeast-2', 'us-west-2']);
    expect(config.availabilityZones).toEqual({ 'ap-southeast-2': ['ap-southeast-2b', 'ap-southeast-2c'] }); // us-west-2 unpinned
    expect(Object.keys(config.tiers)).toEqual(['starter', 'enterprise']);
    expect(config.fineTuning.baseModels.every((m) => m.servingImage.includes('.ap-southeast-2.'))).toBe(true);
  });

  it('is built with the Document API: flow lists for regions and zones, no string templates', async () => {
    const text = renderConfig(await collectAnswers({ ...REQUIRED_FLAGS, availabilityZones: ['eu-west-1=eu-west-1a,eu-west-1b,eu-west-1c'] }));
    expect(text).toMatch(/^allowedRegions: \[eu-west-1, eu-central-1\]$/m);
    expect(text).toMatch(/^ {2}eu-west-1: \[eu-west-1a, eu-west-1b, eu-west-1c\]$/m);
    const doc = parseDocument(text);
    expect(doc.errors).toEqual([]);
    expect(isMap(doc.contents) && doc.contents.items.every(isPair)).toBe(true);
    expect(isScalar(doc.getIn(['platformAccountId'], true)) && (doc.getIn(['platformAccountId'], true) as Scalar).type).toBe(Scalar.QUOTE_DOUBLE);
    expect(doc).toBeInstanceOf(Document);
  });
});
