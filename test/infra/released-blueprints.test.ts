import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareVersions } from '../../lambdas/lifecycle/blueprints.js';
import { ProviderSchemas } from '../../lib/preflight/provider-schemas.js';
import { RELEASE_CONFIGS, recordedResources, templateDigest, upgradeRisks, type ReleasedBlueprints, type TemplateJson } from '../../lib/released-blueprints.js';
import { platformUpdateRisks, recordedPlatformStack, type PlatformTemplateJson } from '../../lib/released-platform-stacks.js';
import { PLATFORM_DR_STACK_ID } from '../../lib/platform-dr-naming.js';
import { STATEFUL_RESOURCE_TYPES } from '../../lib/stateful-resources.js';
import { ACCOUNT_BASELINE_STACK_ID, STACK_IDS, WORKLOAD_PROVISIONING_STACK_ID } from '../../lib/tessera-app.js';
import { failoverBlueprintStackId } from '../../lib/tenant-naming.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';

/**
 * The released blueprint versions (test/fixtures/released-blueprints/<version>.json, recorded at each release commit by
 * scripts/record-released-blueprints.ts) against this checkout's blueprints, synthesized with the same configs
 * (lib/released-blueprints.ts RELEASE_CONFIGS):
 * - a tenant on a released version is upgraded to this one through the change-set guard, which refuses (the tenant
 *   stays on its version) or, with --allow-replacement, lets through the replacement or removal of a stateful resource;
 *   a change that would do it must be a decision named here (ACCEPTED) with its upgrade note, not a commit's side effect;
 *   TesseraPlatform's stores (the registry, the tenant user pool) likewise, which `cdk deploy` updates with no guard at all;
 * - the deploy publishes package.json's version under blueprints/<version>/ and overwrites what that prefix holds
 *   (BucketDeployment, no version id in the workflow's TemplateURL): the tenants on it would get other templates at their
 *   next update, repair or drift repair, and an upgrade to the version would skip them ("already on" it). A released
 *   version's templates do not change; a change to them is a new version (package.json, CHANGELOG).
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'released-blueprints');
const releases: ReleasedBlueprints[] = readdirSync(DIR).filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as ReleasedBlueprints)
  .sort((a, b) => compareVersions(a.version, b.version));
const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
const schemas = new ProviderSchemas();
const TEST_VERSION = '0.0.0-test';

/**
 * Upgrade risks accepted on purpose, each line of upgradeRisks with the reason and the CHANGELOG upgrade note that says
 * how tenants move (`--allow-replacement`). None so far.
 */
const ACCEPTED: Readonly<Record<string, string>> = {};

/** Catalog files, failover templates and TesseraPlatform of the app of each release config, as the fixture names them. */
const current: Record<string, Record<string, TemplateJson>> = {};
/** The catalog files alone (what the deploy publishes). */
const catalog: Record<string, Record<string, unknown>> = {};
/** The platform stacks `cdk deploy` updates, by the names of lib/released-platform-stacks.ts platformStackTemplates. */
const platformStacks: Record<string, Record<string, PlatformTemplateJson>> = {};
beforeAll(async () => {
  for (const [name, overrides] of Object.entries(RELEASE_CONFIGS)) {
    // The default config's app is the one most infra files read (defaultAppTemplates): its cached synth, not another.
    const built = Object.keys(overrides).length ? await appTemplates(overrides) : defaultAppTemplates();
    catalog[name] = built.blueprintCatalog;
    current[name] = {
      ...(built.blueprintCatalog as Record<string, TemplateJson>),
      ...Object.fromEntries(Object.entries(built.failoverBlueprints).map(([tier, t]) => [failoverBlueprintStackId(tier), t.toJSON() as TemplateJson])),
      [STACK_IDS.platform]: built.platform.toJSON() as TemplateJson,
    };
    const p = STACK_IDS.platform;
    platformStacks[name] = Object.fromEntries(Object.entries({
      [STACK_IDS.organization]: built.organization, [p]: built.platform, [`${p}/Operations`]: built.operations,
      [`${p}/FunctionPolicies`]: built.functionPolicies, [`${p}/EventRules`]: built.eventRules, [`${p}/NamespaceKubectl`]: built.namespaceKubectl, [`${p}/ClusterAutoscaler`]: built.clusterAutoscaler, [PLATFORM_DR_STACK_ID]: built.platformDr,
      [ACCOUNT_BASELINE_STACK_ID]: built.accountBaseline, [WORKLOAD_PROVISIONING_STACK_ID]: built.workloadProvisioning,
    }).filter(([, t]) => t).map(([stack, t]) => [stack, t!.toJSON() as PlatformTemplateJson]));
  }
});

describe('released blueprint versions', () => {
  it('are recorded: 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0, 0.6.0, 0.7.0, 0.8.0, 0.9.0, 0.10.0 and 0.11.0, each with the tier, namespace, DR and failover blueprints of the default and the full config, and TesseraPlatform', () => {
    expect(releases.map((r) => r.version)).toEqual(expect.arrayContaining(['0.1.0', '0.2.0', '0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0', '0.9.0', '0.10.0', '0.11.0']));
    for (const r of releases) {
      expect(Object.keys(RELEASE_CONFIGS)).toEqual(expect.arrayContaining(Object.keys(r.configs)));
      expect(Object.keys(r.configs)).toEqual(expect.arrayContaining(['default', 'full']));
      expect(Object.keys(r.configs.full)).toEqual(expect.arrayContaining(['starter.template.json', 'professional-dr.template.json', 'enterprise.template.json', 'TesseraTenantFailover-enterprise', 'starter-namespace.template.json']));
      expect(r.configs.default['starter.template.json'].resources).toMatchObject({ DatabaseInstance02E622FB: { type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot' } });
      // The platform's stores: `cdk deploy TesseraPlatform` has no change-set guard, so this test is the only one.
      expect(Object.values(r.configs.default.TesseraPlatform.resources).map((x) => x.type)).toEqual(expect.arrayContaining(['AWS::Cognito::UserPool', 'AWS::DynamoDB::GlobalTable', 'AWS::KMS::Key']));
      // The platform stacks' custom-named resources, for every config (`cdk deploy` updates them: no guard but this test).
      expect(Object.keys(r.platformStacks ?? {})).toEqual(Object.keys(r.configs));
      expect(Object.keys(r.platformStacks!.full)).toEqual(expect.arrayContaining(['TesseraOrganization', 'TesseraPlatform', 'TesseraPlatform/Operations', 'TesseraPlatformDr', 'TesseraAccountBaseline', 'TesseraWorkloadProvisioning']));
      expect(r.platformStacks!.default.TesseraPlatform.named).toMatchObject({ AdminHandlerRole697E02D5: { type: 'AWS::IAM::Role', createOnly: { '/properties/RoleName': 'tessera-admin-api' } } });
    }
  });

  describe.each(releases.map((r) => [r.version, r] as const))('an upgrade from %s to this checkout', (_, release) => {
    it('keeps every stateful resource: no logical id removed or renamed, no type or replacing property (createOnlyProperties) changed, no DeletionPolicy or UpdateReplacePolicy changed', () => {
      const risks = Object.entries(release.configs).flatMap(([config, templates]) => Object.entries(templates)
        .flatMap(([name, t]) => upgradeRisks(`${config} ${name}`, t, current[config][name], schemas)))
        .filter((line) => !(line in ACCEPTED));
      expect(risks, `these would replace or remove a store of tenants on ${release.version} (the change-set guard refuses them, or --allow-replacement destroys them); `
        + 'keep the logical id and the value, or accept it in ACCEPTED with its upgrade note').toEqual([]);
    });

    it('can update the platform stacks with cdk deploy: no custom-named resource replaced or created again under another logical id, no export changed', () => {
      const risks = Object.entries(release.platformStacks ?? {}).flatMap(([config, stacks]) => Object.entries(stacks)
        .flatMap(([stack, recorded]) => platformUpdateRisks(stack, recorded, platformStacks[config], schemas).map((line) => `${config} ${line}`)));
      expect(risks, `cdk deploy of this checkout over the platform stacks of ${release.version} would fail and roll back on these (docs/upgrading-and-teardown.md, `
        + '"What cdk deploy cannot update"): keep the name and the logical id, or give the resource a new name').toEqual([]);
    });
  });

  it(`publishes package.json's version (${version}) only with the templates it was released with`, () => {
    const release = releases.find((r) => r.version === version);
    if (!release) {
      // Not recorded yet (a release in the making): it must be newer than every released version, not one of theirs again.
      expect(releases.filter((r) => compareVersions(r.version, version) >= 0).map((r) => r.version)).toEqual([]);
      return;
    }
    const differs = Object.entries(release.configs).flatMap(([config, templates]) => [
      ...Object.entries(templates).filter(([, t]) => t.sha256).flatMap(([file, t]) => {
        const now = catalog[config][file];
        return now === undefined ? [`${config} ${file}: no longer published`] : templateDigest(now, TEST_VERSION) !== t.sha256 ? [`${config} ${file}: changed`] : [];
      }),
      ...Object.keys(catalog[config]).filter((file) => !templates[file]).map((file) => `${config} ${file}: new`),
    ]);
    expect(differs, `blueprint version ${version} was released at ${release.commit} with other templates: a deploy of this checkout would overwrite `
      + `blueprints/${version}/ under the tenants on it; set a new version in package.json with a CHANGELOG entry, then npx tsx scripts/record-released-blueprints.ts`).toEqual([]);
  });

  it('recorded each release with the stateful types of lib/stateful-resources.ts, every one a type of the CloudFormation registry (cfn-lint\'s schemas)', () => {
    expect(STATEFUL_RESOURCE_TYPES.filter((t) => !t.startsWith('Custom::') && !schemas.get(t))).toEqual([]);
  });
});

describe('upgradeRisks', () => {
  const released: TemplateJson = {
    Resources: {
      Subnets: { Type: 'AWS::RDS::DBSubnetGroup', Properties: { DBSubnetGroupName: 'tessera-db', SubnetIds: ['a'] } },
      Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: {} }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
      Database: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceIdentifier: 'tessera-acme', DBSubnetGroupName: { Ref: 'Subnets' }, KmsKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] }, AllocatedStorage: '20' }, DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/tessera/acme' } },
      Manifest: { Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:kubectl', Manifest: '[]' } },
      Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'unrelated' } },
    },
  };
  const recorded = { resources: recordedResources(released, schemas) };
  const change = (edit: (r: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>) => void): string[] => {
    const next = structuredClone(released) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }> };
    edit(next.Resources);
    return upgradeRisks('t', recorded, next, schemas);
  };

  it('records the stateful resources and what their replacing properties reference, not the rest', () => {
    expect(Object.keys(recorded.resources)).toEqual(['Database', 'Key', 'Logs', 'Manifest', 'Subnets']);
    expect(recorded.resources.Subnets).toEqual({ type: 'AWS::RDS::DBSubnetGroup', createOnly: { '/properties/DBSubnetGroupName': 'tessera-db' }, referencedBy: ['Database'] });
    expect(recorded.resources.Database.createOnly).toEqual({ '/properties/DBInstanceIdentifier': 'tessera-acme', '/properties/DBSubnetGroupName': { Ref: 'Subnets' }, '/properties/KmsKeyId': { 'Fn::GetAtt': ['Key', 'Arn'] } });
  });

  it('finds nothing in an in-place change (a property that is not create-only, an unrelated resource)', () => {
    expect(change((r) => { r.Database.Properties!.AllocatedStorage = '40'; r.Key.Properties!.KeyPolicy = { x: 1 }; r.Manifest.Properties!.Manifest = '[{}]'; delete r.Role; })).toEqual([]);
  });

  it('finds a rename, a type change, a replacing property, one of a referenced resource, a custom resource\'s ServiceToken and a policy change', () => {
    expect(change((r) => {
      r.Logs2 = r.Logs; delete r.Logs;
      r.Key.Type = 'AWS::KMS::ReplicaKey';
      r.Database.Properties!.DBInstanceIdentifier = 'tessera-acme-2';
      r.Subnets.Properties!.DBSubnetGroupName = 'tessera-db-2';
      r.Manifest.Properties!.ServiceToken = 'arn:aws:lambda:us-east-1:111111111111:function:kubectl2';
      r.Database.DeletionPolicy = 'Delete';
    })).toEqual([
      't Database (AWS::RDS::DBInstance): DBInstanceIdentifier changes, which replaces it: "tessera-acme" → "tessera-acme-2"',
      't Database (AWS::RDS::DBInstance): DeletionPolicy changes: Snapshot → Delete',
      't Key (AWS::KMS::Key): its type is now AWS::KMS::ReplicaKey (a replacement)',
      't Logs (AWS::Logs::LogGroup): its logical id is gone (removed, or renamed: CloudFormation removes the old resource)',
      't Manifest (Custom::AWSCDK-EKS-KubernetesResource): ServiceToken changes, which replaces it: "arn:aws:lambda:us-east-1:111111111111:function:kubectl" → "arn:aws:lambda:us-east-1:111111111111:function:kubectl2"',
      't Subnets (AWS::RDS::DBSubnetGroup): DBSubnetGroupName changes, which replaces it: "tessera-db" → "tessera-db-2"',
    ]);
  });

  it('finds a replacing property set that the release left absent', () => {
    expect(change((r) => { r.Logs.Properties = {}; r.Database.Properties!.DBName = 'app'; })).toEqual([
      't Database (AWS::RDS::DBInstance): DBName changes, which replaces it: (absent) → "app"',
      't Logs (AWS::Logs::LogGroup): LogGroupName changes, which replaces it: "/tessera/acme" → (absent)',
    ]);
  });

  describe('the properties the schemas miss (lib/immutable-properties.ts)', () => {
    // cfn-lint's schemas list no createOnlyProperties for a user pool or a key, and TableName alone for a global table.
    const stores: TemplateJson = {
      Resources: {
        Pool: { Type: 'AWS::Cognito::UserPool', Properties: { UserPoolName: 'tessera-tenants', UsernameAttributes: ['email'] }, DeletionPolicy: 'Retain' },
        Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: {}, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' } },
        Table: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { TableName: 'tessera-keys', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], Replicas: [{ Region: 'us-east-1' }] } },
      },
    };
    const record = { resources: recordedResources(stores, schemas) };
    const edit = (fn: (r: Record<string, { Properties: Record<string, unknown> }>) => void) => {
      const next = structuredClone(stores) as unknown as { Resources: Record<string, { Properties: Record<string, unknown> }> };
      fn(next.Resources);
      return next as unknown as TemplateJson;
    };

    it('records their values beside createOnly, null for one the template leaves out', () => {
      expect(record.resources.Pool).toEqual({ type: 'AWS::Cognito::UserPool', immutable: { '/properties/AliasAttributes': null, '/properties/UsernameAttributes': ['email'], '/properties/UsernameConfiguration': null }, DeletionPolicy: 'Retain' });
      expect(record.resources.Key.immutable).toEqual({ '/properties/KeySpec': 'SYMMETRIC_DEFAULT', '/properties/KeyUsage': 'ENCRYPT_DECRYPT', '/properties/Origin': null, '/properties/MultiRegion': null });
      expect(record.resources.Table).toMatchObject({ createOnly: { '/properties/TableName': 'tessera-keys' }, immutable: { '/properties/KeySchema': [{ AttributeName: 'pk', KeyType: 'HASH' }], '/properties/LocalSecondaryIndexes': null } });
    });

    it('finds a change of one: the replacement it makes, or the update CloudFormation refuses; not in a record made before the supplement', () => {
      expect(upgradeRisks('t', record, edit((r) => {
        r.Pool.Properties.UsernameAttributes = ['phone_number'];
        r.Pool.Properties.UsernameConfiguration = { CaseSensitive: false };
        r.Key.Properties.MultiRegion = true;
        r.Table.Properties.KeySchema = [{ AttributeName: 'id', KeyType: 'HASH' }];
        r.Table.Properties.Replicas = [{ Region: 'us-east-1' }, { Region: 'us-west-2' }];
      }), schemas)).toEqual([
        't Key (AWS::KMS::Key): MultiRegion changes, which CloudFormation cannot update (the upgrade fails and rolls back): (absent) → true',
        't Pool (AWS::Cognito::UserPool): UsernameAttributes changes, which CloudFormation cannot update (the upgrade fails and rolls back): ["email"] → ["phone_number"]',
        't Pool (AWS::Cognito::UserPool): UsernameConfiguration changes, which CloudFormation cannot update (the upgrade fails and rolls back): (absent) → {"CaseSensitive":false}',
        't Table (AWS::DynamoDB::GlobalTable): KeySchema changes, which replaces it: [{"AttributeName":"pk","KeyType":"HASH"}] → [{"AttributeName":"id","KeyType":"HASH"}]',
      ]);
      // A record made before the supplement (0.1.0, 0.2.0: no `immutable`) does not say whether the template set them: not compared.
      const before = { resources: Object.fromEntries(Object.entries(record.resources).map(([id, r]) => [id, { ...r, immutable: undefined }])) };
      expect(upgradeRisks('t', before, edit((r) => { r.Pool.Properties.UsernameAttributes = ['phone_number']; }), schemas)).toEqual([]);
    });
  });

  it('names a template that is gone', () => {
    expect(upgradeRisks('t', recorded, undefined, schemas)).toEqual(['t: the template is gone, with Database, Key, Logs, Manifest, Subnets']);
  });

  it('digests a template the same at any version, and another content otherwise', () => {
    const at = (v: string) => ({ Description: `Tessera tenant blueprint, tier starter, version ${v}`, Outputs: { BlueprintVersion: { Value: v } }, Resources: released.Resources });
    expect(templateDigest(at('0.2.0'), '0.2.0')).toBe(templateDigest(at(TEST_VERSION), TEST_VERSION));
    expect(templateDigest({ ...at('0.2.0'), Resources: {} }, '0.2.0')).not.toBe(templateDigest(at('0.2.0'), '0.2.0'));
  });
});

describe('platformUpdateRisks', () => {
  const stack: PlatformTemplateJson = {
    Parameters: { referencetoParentFunctionArn: { Type: 'String' } },
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'tessera-admin-api', AssumeRolePolicyDocument: {} } },
      Boundary: { Type: 'AWS::IAM::ManagedPolicy', Properties: { ManagedPolicyName: 'TesseraPodBridgeBoundary', Description: 'boundary', Path: '/', PolicyDocument: {} } },
      Unnamed: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
      Permission: { Type: 'AWS::Lambda::Permission', Properties: { FunctionName: 'tessera-fixed', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' } },
      Endpoint: { Type: 'AWS::EC2::VPCEndpoint', Properties: { ServiceName: 'com.amazonaws.us-east-1.s3', VpcId: 'vpc-1' } },
      Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api' }, StageName: 'v1' } },
      Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: { Ref: 'referencetoParentFunctionArn' } } },
    },
    Outputs: { Url: { Value: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, Export: { Name: 'tessera-api-root' } } },
  };
  const released = recordedPlatformStack(stack, schemas);
  type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  const edit = (fn: (r: Resources, t: { Resources: Resources; Outputs: Record<string, { Value?: unknown; Export?: { Name?: unknown } }> }) => void, other: PlatformTemplateJson = { Resources: {} }) => {
    const next = structuredClone(stack) as unknown as { Resources: Resources; Outputs: Record<string, { Value?: unknown; Export?: { Name?: unknown } }> };
    fn(next.Resources, next);
    return platformUpdateRisks('P', released, { P: next, Q: other }, schemas);
  };

  it('records the resources that name themselves (no name of another resource, none made of a reference or a nested stack parameter) and the exports', () => {
    expect(Object.keys(released.named)).toEqual(['Boundary', 'Role', 'Stage']);
    expect(released.named.Boundary).toEqual({ type: 'AWS::IAM::ManagedPolicy', createOnly: { '/properties/ManagedPolicyName': 'TesseraPodBridgeBoundary', '/properties/Description': 'boundary', '/properties/Path': '/' } });
    expect(released.exports).toEqual({ 'tessera-api-root': { 'Fn::GetAtt': ['Api', 'RootResourceId'] } });
  });

  it('finds nothing in an in-place update, an unnamed resource replaced, or a named one removed for good', () => {
    expect(edit((r) => { r.Role.Properties!.AssumeRolePolicyDocument = { x: 1 }; r.Unnamed.Properties!.FifoQueue = false; r.Endpoint.Properties!.VpcId = 'vpc-2'; delete r.Stage; })).toEqual([]);
  });

  it('finds a custom-named resource replaced, created again under another logical id in its stack or another one, and an export changed or gone', () => {
    expect(edit((r) => {
      r.Role.Properties!.RoleName = 'tessera-admin';
      r.Boundary.Properties!.Description = 'the boundary';
      r.Renamed = r.Stage; delete r.Stage;
    })).toEqual([
      'P Boundary (AWS::IAM::ManagedPolicy): Description changes, which replaces a custom-named resource (CloudFormation refuses): "boundary" → "the boundary"',
      'P Role (AWS::IAM::Role): RoleName changes, which replaces a custom-named resource (CloudFormation refuses): "tessera-admin-api" → "tessera-admin"',
      'P Stage (AWS::ApiGateway::Stage): its logical id is gone and P Renamed has its StageName "v1": CloudFormation creates that one before it deletes this one (AlreadyExists)',
    ]);
    expect(edit((r, t) => { delete r.Role; t.Outputs.Url.Value = 'x'; }, { Resources: { Moved: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'tessera-admin-api' } } } })).toEqual([
      'P Role (AWS::IAM::Role): its logical id is gone and Q Moved has its RoleName "tessera-admin-api": CloudFormation creates that one before it deletes this one (AlreadyExists)',
      'P export tessera-api-root: its value changes (refused while another stack imports it): {"Fn::GetAtt":["Api","RootResourceId"]} → "x"',
    ]);
    expect(edit((r, t) => { r.Role.Type = 'AWS::IAM::User'; delete (t.Outputs as Record<string, unknown>).Url; })).toEqual([
      'P Role (AWS::IAM::Role): its type is now AWS::IAM::User: a custom-named resource CloudFormation cannot replace',
      'P export tessera-api-root: gone (refused while another stack imports it)',
    ]);
  });

  it('names a stack that is gone', () => {
    expect(platformUpdateRisks('Gone', released, {}, schemas)).toEqual(['Gone: the stack is gone (cdk deploy no longer updates it; its resources stay as deployed)']);
  });
});
