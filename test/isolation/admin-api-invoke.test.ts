import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { ADMIN_RESOURCES, ADMIN_ROUTES, adminApiMethods } from '../../lib/admin-routes.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { PLATFORM_ADMIN_POLICY_NAME } from '../../lib/platform-admin-naming.js';
import { configWith } from '../support/config-with.js';
import { defaultAppTemplates } from '../support/default-app.js';

/**
 * Who may call which admin API route, through the IAM policy simulator (lib/preflight/iam-eval.ts), since the resources
 * with several routes have one ANY method (lib/admin-routes.ts adminApiMethods: /admin/tenants, /admin/tenants/{id}, its
 * keys and users, /admin/drift). API Gateway authorizes an AWS_IAM method's call with `execute-api:Invoke` on
 * `arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD_HTTP_VERB>/<resource path>`, the request's own verb and
 * path (API Gateway developer guide, "Control access for invoking an API" and its policy examples: Allow `…/GET/pets`,
 * Deny `…/POST/pets`); an ANY method does not put `ANY` there. So a policy granting some methods grants those only, on an
 * ANY resource as on a one-method one: every resource is asked here with every method, as the request's ARN.
 *
 * The policies: the synthesized `TesseraPlatformAdminAccess` (every method under /admin/ of this API and stage, nothing of
 * another API or stage), and the read-only policy docs/deploying.md gives (GET only: no POST, PUT, PATCH or DELETE, on the
 * ANY resources too), read from the doc. What this does not model: API Gateway's own answers after IAM allowed the call
 * (another method on a one-method resource: 403 Missing Authentication Token; on an ANY resource: the handler's 405).
 */

const PARTITION = 'aws';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;
/** A concrete request path of each resource, as the caller sends it (and the ARN carries it): `{id}` → acme, … */
const pathOf = (resource: string) => resource.replace('{id}', 'acme').replace('{keyId}', 'key-1').replace('{userId}', 'user-1').replace('{upgradeId}', 'starter-2_0_0-e2af56e1');

let account: string;
let region: string;
/** The admin REST API's id, as `Ref` of an AWS::ApiGateway::RestApi gives it. */
const apiId = 'a1b2c3d4e5';
let adminAccess: PolicyJson;

type Cfn = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

/**
 * A value of the template with its `Ref`s and `Fn::Join`s resolved as CloudFormation resolves them for the admin API's ARNs:
 * `Ref` of the RestApi its id, of a Stage its StageName (lib/preflight/instantiate.ts makes a physical id of both, which is
 * not what AWS returns for a Stage), the pseudo parameters this account's and Region's.
 * @throws Error for any other intrinsic (this file resolves what TesseraPlatformAdminAccess uses, no more)
 */
function resolve(template: Cfn, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => resolve(template, v));
  const v = value as Record<string, unknown>;
  if ('Ref' in v) {
    const ref = v.Ref as string;
    const pseudo: Record<string, string> = { 'AWS::Partition': PARTITION, 'AWS::Region': region, 'AWS::AccountId': account, 'AWS::URLSuffix': 'amazonaws.com' };
    if (pseudo[ref]) return pseudo[ref];
    const r = template.Resources[ref];
    if (r?.Type === 'AWS::ApiGateway::RestApi' && r.Properties?.Name === 'tessera-admin') return apiId;
    if (r?.Type === 'AWS::ApiGateway::Stage') return r.Properties?.StageName;
    throw new Error(`Ref ${ref} (${r?.Type}) is not resolved here`);
  }
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolve(template, p)).join(sep);
  }
  if (Object.keys(v).some((k) => k.startsWith('Fn::'))) throw new Error(`${Object.keys(v)[0]} is not resolved here`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(template, x)]));
}

beforeAll(() => {
  const config = configWith();
  account = config.platformAccountId;
  region = config.homeRegion;
  const template = defaultAppTemplates().platform.toJSON() as Cfn;
  const policy = Object.values(template.Resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties?.ManagedPolicyName === PLATFORM_ADMIN_POLICY_NAME);
  if (!policy) throw new Error(`no ${PLATFORM_ADMIN_POLICY_NAME} in the platform stack`);
  adminAccess = resolve(template, policy.Properties!.PolicyDocument) as PolicyJson;
}, 240_000);

/** The ARN API Gateway authorizes a call with: this API (or `api`), stage v1 (or `stage`), the request's method and path. */
const invokeArn = (method: string, path: string, api = apiId, stage = 'v1') => `arn:${PARTITION}:execute-api:${region}:${account}:${api}/${stage}/${method}${path}`;

/** Whether an Identity Center session whose permission set holds `policy` may make the call `arn` stands for. */
async function invokes(policy: PolicyJson, arn: string): Promise<boolean> {
  const role = 'AWSReservedSSO_TesseraPlatformAdmin_0123456789abcdef';
  const identityPolicies: SimulationIdentityPolicy[] = [{ name: 'operator', policy: policy as SimulationIdentityPolicy['policy'] }];
  const r = await evaluate({
    principalArn: `arn:${PARTITION}:sts::${account}:assumed-role/${role}/alice`, action: 'execute-api:Invoke', resource: arn, resourceAccount: account,
    context: { 'aws:PrincipalArn': `arn:${PARTITION}:iam::${account}:role/aws-reserved/sso.amazonaws.com/${role}`, 'aws:PrincipalAccount': account, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': region, 'aws:SecureTransport': 'true' },
    identityPolicies, scps: [],
  });
  expect(r.result, arn).not.toMatch(/^error/);
  return r.allowed;
}

/** `<METHOD> <resource>` of every resource and method the policy allows. */
async function allowedCalls(policy: PolicyJson): Promise<string[]> {
  const allowed: string[] = [];
  for (const resource of ADMIN_RESOURCES) {
    for (const method of METHODS) if (await invokes(policy, invokeArn(method, pathOf(resource)))) allowed.push(`${method} ${resource}`);
  }
  return allowed;
}

/** The read-only policy of docs/deploying.md ("A read-only admin"), its placeholders filled for this API. */
function readOnlyPolicy(): PolicyJson {
  const doc = readFileSync(new URL('../../docs/deploying.md', import.meta.url), 'utf8');
  const json = /\*\*A read-only admin\*\*[^]*?```json\n([^]*?)```/.exec(doc)?.[1];
  if (!json) throw new Error('docs/deploying.md has no "A read-only admin" policy');
  return JSON.parse(json.replaceAll('<region>', region).replaceAll('<platform>', account).replaceAll('<admin api id>', apiId)) as PolicyJson;
}

describe('the admin API\'s IAM authorization with ANY methods: each call is authorized with its own method', () => {
  it('the resources with several routes have one ANY method (what the rest of this file is about)', () => {
    expect([...adminApiMethods()].filter(([, m]) => m === 'ANY').map(([r]) => r)).toEqual(['/admin/tenants', '/admin/tenants/{id}', '/admin/tenants/{id}/gateway', '/admin/tenants/{id}/keys', '/admin/tenants/{id}/users', '/admin/drift']);
  });

  it('TesseraPlatformAdminAccess: every route (every method of every resource under /admin/), of this API\'s v1 stage only', async () => {
    expect((adminAccess.Statement as Array<{ Resource: unknown }>)[0]!.Resource).toBe(`arn:aws:execute-api:${region}:${account}:${apiId}/v1/*/admin/*`);
    // The policy grants every method: API Gateway, then the handler, answer a method a resource does not take.
    expect(await allowedCalls(adminAccess)).toEqual(ADMIN_RESOURCES.flatMap((r) => METHODS.map((m) => `${m} ${r}`)));
    expect(await invokes(adminAccess, invokeArn('POST', '/admin/tenants', 'otherapi01'))).toBe(false);
    expect(await invokes(adminAccess, invokeArn('POST', '/admin/tenants', apiId, 'test'))).toBe(false);
    expect(await invokes(adminAccess, invokeArn('POST', '/v1/chat/completions'))).toBe(false);
  });

  it('the read-only policy of docs/deploying.md: the GET routes only; no POST, PUT, PATCH or DELETE, on the ANY resources as on the others', async () => {
    const policy = readOnlyPolicy();
    const allowed = await allowedCalls(policy);
    expect(allowed).toEqual(ADMIN_RESOURCES.map((r) => `GET ${r}`));
    // Every route that changes something is refused, by the method its request carries (ANY is never in the ARN).
    const changing = ADMIN_ROUTES.filter((r) => !r.startsWith('GET '));
    expect(changing.length).toBeGreaterThan(15);
    for (const route of changing) {
      const [method, resource] = route.split(' ') as [string, string];
      expect(await invokes(policy, invokeArn(method, pathOf(resource))), route).toBe(false);
    }
    // Positive controls: a read of each ANY resource; the upgrade's progress (tessera tenants upgrade --follow)
    for (const resource of ['/admin/tenants', '/admin/tenants/{id}', '/admin/drift', '/admin/upgrades/{upgradeId}']) {
      expect(await invokes(policy, invokeArn('GET', pathOf(resource))), resource).toBe(true);
    }
  });

  it('a policy that names the ANY method as ANY grants nothing: the ARN a call is authorized with carries its own method', async () => {
    const policy: PolicyJson = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: invokeArn('ANY', '/admin/*') }] };
    expect(await allowedCalls(policy)).toEqual([]);
  });

  it('a policy naming routes by method and path (suspend and resume only) grants those, not the other methods of the resources around them', async () => {
    const policy: PolicyJson = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: ['suspend', 'resume'].map((a) => invokeArn('POST', `/admin/tenants/*/${a}`)) }] };
    expect(await allowedCalls(policy)).toEqual(['POST /admin/tenants/{id}/suspend', 'POST /admin/tenants/{id}/resume']);
  });
});
