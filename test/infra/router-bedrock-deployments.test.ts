import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { appTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * The router's Bedrock grant with Bedrock deployments (`gateway.models[].deployments[].region`): each deployment's
 * model is invocable in the deployment's region, a deployment calling a cross-region inference profile gets that
 * region's profiles, and no region no deployment names is reached.
 */
type Resource = { Type: string; Properties: Record<string, any> };
let resources: Record<string, Resource>;

const PLATFORM = '222222222222';
const ROUTER = `arn:aws:iam::${PLATFORM}:role/TesseraPlatform-InferenceRouterRole`;
const NOVA_PRO = 'amazon.nova-pro-v1:0';
const SONNET = 'anthropic.claude-3-7-sonnet-20250219-v1:0';

beforeAll(async () => {
  const templates = await appTemplates({
    allowedRegions: ['us-east-1', 'us-west-2', 'eu-west-1'],
    gateway: {
      models: [
        ...DEFAULT_CONFIG.gateway.models,
        { id: 'bedrock/nova-pro', upstream: NOVA_PRO, inputPricePer1k: 0.0008, outputPricePer1k: 0.0032, deployments: [{ name: 'virginia', region: 'us-east-1' }, { name: 'oregon', region: 'us-west-2', weight: 2 }] },
        { id: 'bedrock/sonnet-eu', upstream: `eu.${SONNET}`, inputPricePer1k: 0.003, outputPricePer1k: 0.015, deployments: [{ name: 'ireland', region: 'eu-west-1' }] },
      ],
    },
  });
  resources = templates.platformWithPolicies.toJSON().Resources as Record<string, Resource>;
}, 600_000);

const allowed = async (action: string, resource: string) => {
  const [, policy] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.startsWith('InferenceRouterPolicy'))!;
  const statements = (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).filter((st) => [st.Action].flat().some((a) => a.startsWith('bedrock:Invoke')));
  const document = resolveIntrinsics({ Version: '2012-10-17', Statement: statements }, { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': PLATFORM }) as PolicyJson;
  const r = await evaluate({
    principalArn: ROUTER, action, resource, resourceAccount: resource.split(':')[4] || PLATFORM,
    context: { 'aws:PrincipalArn': ROUTER, 'aws:PrincipalAccount': PLATFORM, 'aws:RequestedRegion': resource.split(':')[3] },
    identityPolicies: [{ name: 'InferenceRouterPolicy', policy: document }], scps: [],
  });
  expect(r.result).not.toMatch(/^error/);
  return r.allowed;
};
const model = (region: string, id: string) => `arn:aws:bedrock:${region}::foundation-model/${id}`;
const profile = (region: string, id: string) => `arn:aws:bedrock:${region}:${PLATFORM}:inference-profile/${id}`;

describe('the router\'s Bedrock grant with deployments in several regions', () => {
  it('invokes a deployment\'s model in each deployment\'s region, and in no other', async () => {
    for (const region of ['us-east-1', 'us-west-2']) {
      for (const action of ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']) expect(await allowed(action, model(region, NOVA_PRO)), `${action} ${region}`).toBe(true);
    }
    for (const region of ['eu-west-1', 'ap-southeast-2', 'us-east-2']) expect(await allowed('bedrock:InvokeModel', model(region, NOVA_PRO)), region).toBe(false);
    // The default catalog's single-region models stay in the home region only.
    expect(await allowed('bedrock:InvokeModel', model('us-east-1', 'amazon.nova-lite-v1:0'))).toBe(true);
    expect(await allowed('bedrock:InvokeModel', model('us-west-2', 'amazon.nova-lite-v1:0'))).toBe(false);
  });

  it('grants the inference profiles of a region where a deployment calls one (eu-west-1), not of regions where none does', async () => {
    expect(await allowed('bedrock:InvokeModel', profile('eu-west-1', `eu.${SONNET}`))).toBe(true);
    expect(await allowed('bedrock:InvokeModelWithResponseStream', profile('eu-west-1', `eu.${SONNET}`))).toBe(true);
    // Its foundation model wherever the eu. profile routes it (a profile's destinations: lib/bedrock-models.ts).
    expect(await allowed('bedrock:InvokeModel', model('eu-central-1', SONNET))).toBe(true);
    for (const region of ['us-west-2', 'eu-central-1']) expect(await allowed('bedrock:InvokeModel', profile(region, `eu.${SONNET}`)), region).toBe(false);
  });
});
