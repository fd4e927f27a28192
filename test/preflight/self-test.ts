import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../lib/guardrail-policies.js';
import type { CfnTemplate, CfnValue } from '../../lib/preflight/cfn-template.js';
import type { LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import { formatReport } from '../../lib/preflight/format.js';
import { checkNameConstraints, compileSchemaPattern } from '../../lib/preflight/names.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import type { ProviderSchemas } from '../../lib/preflight/provider-schemas.js';
import { runPreflight, tierPasses, type PreflightOptions, type PreflightTemplateKind, type PreflightReport, type TierReport } from '../../lib/preflight/run.js';
import { ruleStatus } from '../../lib/preflight/service-rules.js';
import { ACCOUNT_BASELINE_FILE_NAME } from '../../lib/tenant-naming.js';
import { defaultPreflight } from './support/default-preflight.js';

// Self-test: a planted defect of each kind must be caught. Each mutation is applied to a copy of
// the real blueprint (or of the SCP documents the run builds from the config); the unmutated run
// (`control`, one run of every tier) must not show it. The simulator's answers are memoized per
// process, so a planted run costs only the requests the defect changes. The control is the
// default config's run that preflight.test.ts asserts on (support/default-preflight.ts): this suite
// runs in that file's process, registered by describeSelfTest().
let loaded: LoadedBlueprints;
let control: PreflightReport;

type Kind = PreflightTemplateKind;
type Statement = { Sid?: string; Action?: unknown; Condition?: Record<string, Record<string, unknown>> };
const resourcesOf = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);
const propsOf = (r: { Properties?: Record<string, CfnValue> }) => r.Properties as Record<string, CfnValue>;
const tier = (r: PreflightReport, name: string): TierReport => r.tiers.find((t) => t.tierName === name)!;
const blueprint = (t: TierReport, file: string) => t.blueprints.find((b) => b.blueprint === file)!;
/** Every check but plain Retain and service-role evaluation errors passes: a failing verdict is theirs alone. */
const otherwiseClean = (t: TierReport) => t.blockers.length === 0 && t.blueprints.every((b) => b.counts.denied === 0) && t.collisions.length === 0
  && t.nameViolations.length === 0 && t.rules.every((r) => r.violations.length === 0) && t.serviceRoles.denials.length === 0;
const plant = (tiers: string[], opts: PreflightOptions) => runPreflight(loaded, { onlyTiers: tiers, ...opts });
const onTenant = (change: (t: CfnTemplate) => void) => (kind: Kind, _tier: string, t: CfnTemplate) => {
  if (kind === 'tenant') change(t);
  return t;
};
/** The guardrail SCP the run builds, with `principal` taken out of statement `sid`'s ArnNotLike exemption. */
const withoutExemption = (sid: string, principal: RegExp) => (name: 'guardrail' | 'quarantine', doc: PolicyDocument) => {
  if (name !== 'guardrail') return doc;
  const statement = doc.Statement.find((s) => s.Sid === sid) as Statement | undefined;
  if (!statement) throw new Error(`guardrail SCP has no statement ${sid}`);
  const arnNotLike = statement.Condition!.ArnNotLike as Record<string, string[]>;
  const before = [arnNotLike['aws:PrincipalArn']].flat();
  arnNotLike['aws:PrincipalArn'] = before.filter((p) => !principal.test(p));
  if (arnNotLike['aws:PrincipalArn'].length === before.length) throw new Error(`${sid} does not exempt ${principal}`);
  return doc;
};

/** Registers the self-test suite in the calling test file (preflight.test.ts), after its control run. */
export function describeSelfTest(): void {
  describe('preflight self-test', () => {
    beforeAll(async () => {
      ({ loaded, report: control } = await defaultPreflight());
    }, 120_000);

    it('catches a key policy that lacks a handler\'s permission (the execution role\'s ViaService statement dropped)', async () => {
      const withoutViaService = onTenant((t) => {
        for (const key of resourcesOf(t, 'AWS::KMS::Key')) {
          const policy = propsOf(key).KeyPolicy as unknown as { Statement: Statement[] };
          policy.Statement = policy.Statement.filter((s) => !JSON.stringify(s.Condition ?? {}).includes('kms:ViaService'));
        }
      });
      const planted = await plant(['starter'], { mutate: withoutViaService });
      const vaultKmsDenied = (r: PreflightReport) => tier(r, 'starter').blueprints[0].checks.filter((c) => c.type === 'AWS::Backup::BackupVault' && c.handler === 'create' && c.action.startsWith('kms:') && c.outcome === 'denied');
      expect(vaultKmsDenied(control)).toEqual([]);
      expect(vaultKmsDenied(planted).map((c) => c.action)).toEqual(expect.arrayContaining(['kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt']));
    });

    it('catches a fixed physical name (two tenants\' backup vaults collide)', async () => {
      const fixedVaultName = onTenant((t) => {
        for (const v of resourcesOf(t, 'AWS::Backup::BackupVault')) propsOf(v).BackupVaultName = 'tessera-database-vault';
      });
      const planted = await plant(['starter'], { mutate: fixedVaultName });
      expect(tier(control, 'starter').collisions).toEqual([]);
      expect(tier(planted, 'starter').collisions).toEqual([expect.objectContaining({ type: 'AWS::Backup::BackupVault', name: 'tessera-database-vault', holders: expect.arrayContaining([expect.stringMatching(/^acme\//), expect.stringMatching(/^globex\//)]) })]);
    });

    it('catches a password-less user in a user group of engine valkey', async () => {
      const passwordlessValkey = onTenant((t) => {
        for (const g of resourcesOf(t, 'AWS::ElastiCache::UserGroup')) propsOf(g).Engine = 'valkey';
        for (const u of resourcesOf(t, 'AWS::ElastiCache::User')) if (propsOf(u).UserName === 'default') propsOf(u).AuthenticationMode = { Type: 'no-password-required' };
      });
      const planted = await plant(['starter'], { mutate: passwordlessValkey });
      const violations = (r: PreflightReport) => tier(r, 'starter').rules.find((x) => x.rule.id === 'elasticache-valkey-user-group-auth')?.violations;
      expect(violations(control)).toEqual([]);
      expect(violations(planted)).toEqual([expect.stringMatching(/engine valkey.*no-password-required/)]);
    });

    it('catches a password-less user of engine valkey whatever its group (only the default user\'s engine set to valkey)', async () => {
      const valkeyDefaultUser = onTenant((t) => {
        for (const u of resourcesOf(t, 'AWS::ElastiCache::User')) if (propsOf(u).UserName === 'default') propsOf(u).Engine = 'valkey';
      });
      const planted = await plant(['starter'], { mutate: valkeyDefaultUser });
      const violations = (r: PreflightReport, id: string) => tier(r, 'starter').rules.find((x) => x.rule.id === id)?.violations;
      expect(violations(control, 'elasticache-valkey-user-auth')).toEqual([]);
      expect(violations(planted, 'elasticache-valkey-user-auth')).toEqual([expect.stringMatching(/^CacheDefaultUser\w+ \(tessera-acme-default, user name default\) has engine valkey with authentication no-password-required$/)]);
      // The group is still of engine redis: the group rule alone would not have seen it.
      expect(violations(planted, 'elasticache-valkey-user-group-auth')).toEqual([]);
      expect(tierPasses(tier(planted, 'starter'))).toBe(false);
    });

    it('catches a database created with deletion protection on (a failed create could not roll it back)', async () => {
      const protectedAtCreate = onTenant((t) => {
        for (const db of resourcesOf(t, 'AWS::RDS::DBInstance')) propsOf(db).DeletionProtection = true;
      });
      const rollsBack = (r: PreflightReport) => tier(r, 'starter').rules.find((x) => x.rule.id === 'rds-create-rolls-back')?.violations;
      expect(rollsBack(control)).toEqual([]);
      expect(rollsBack(await plant(['starter'], { mutate: protectedAtCreate }))).toEqual([expect.stringMatching(/^DatabaseInstance\w+ is created with DeletionProtection on$/)]);
    });

    it('catches a key policy without secretsmanager in its ViaService lists (the RDS-managed master secret\'s kms calls denied)', async () => {
      const withoutSecretsManager = onTenant((t) => {
        for (const key of resourcesOf(t, 'AWS::KMS::Key')) {
          for (const s of (propsOf(key).KeyPolicy as unknown as { Statement: Statement[] }).Statement) {
            const equals = s.Condition?.StringEquals;
            if (equals?.['kms:ViaService']) equals['kms:ViaService'] = [equals['kms:ViaService']].flat().filter((v) => !JSON.stringify(v).includes('secretsmanager.'));
          }
        }
      });
      const planted = await plant(['starter'], { mutate: withoutSecretsManager });
      const secretKms = (r: PreflightReport) => tier(r, 'starter').blueprints[0].checks.filter((c) => c.type === 'AWS::RDS::DBInstance' && c.action.includes('via secretsmanager'));
      expect(secretKms(control).map((c) => `${c.handler} ${c.action.split(' ')[0]} ${c.outcome}`).sort()).toEqual([
        'create kms:Decrypt allowed', 'create kms:GenerateDataKey allowed', 'update kms:Decrypt allowed', 'update kms:GenerateDataKey allowed',
      ]);
      expect(secretKms(planted).filter((c) => c.outcome === 'denied').map((c) => `${c.handler} ${c.action.split(' ')[0]}`).sort()).toEqual([
        'create kms:Decrypt', 'create kms:GenerateDataKey', 'update kms:Decrypt', 'update kms:GenerateDataKey',
      ]);
    });

    it('catches an execution role taken out of the guardrail\'s ProtectTenantKeys exemption (the tenant key\'s tags meet the SCP)', async () => {
      const planted = await plant(['starter'], { mutateScp: withoutExemption('ProtectTenantKeys', /TesseraBlueprintExecution$/) });
      const keyDenied = (r: PreflightReport) => tier(r, 'starter').blueprints[0].checks.filter((c) => c.type === 'AWS::KMS::Key' && c.outcome === 'denied');
      expect(keyDenied(control)).toEqual([]);
      const denied = keyDenied(planted);
      expect(denied.map((c) => `${c.handler} ${c.action}`).sort()).toEqual([
        'create kms:DisableKey', 'create kms:PutKeyPolicy', 'delete kms:ScheduleKeyDeletion', 'update kms:DisableKey', 'update kms:PutKeyPolicy',
      ]);
      for (const c of denied) expect(c.detail).toMatch(/TesseraGuardrails\/ProtectTenantKeys/);
      // The creating call carries request tags, not resource tags: CreateKey is not a protected action anyway, and stays allowed.
      expect(tier(planted, 'starter').blueprints[0].checks.find((c) => c.action === 'kms:CreateKey')?.outcome).toBe('allowed');
    });

    it('checks the account baseline\'s own deploy as the provisioning role (its ProtectTesseraRoles exemption removed: the execution role cannot be built)', async () => {
      const planted = await plant(['starter', 'enterprise'], { mutateScp: withoutExemption('ProtectTesseraRoles', /TesseraProvisioning$/) });
      for (const name of ['starter', 'enterprise']) {
        const ok = blueprint(tier(control, name), ACCOUNT_BASELINE_FILE_NAME);
        expect(ok.deployer).toMatch(/:role\/TesseraProvisioning$/);
        expect(ok.counts.evaluated).toBeGreaterThan(0);
        expect(ok.counts.denied).toBe(0);
        const bad = blueprint(tier(planted, name), ACCOUNT_BASELINE_FILE_NAME);
        const denied = bad.checks.filter((c) => c.outcome === 'denied');
        expect(denied.map((c) => c.action)).toEqual(expect.arrayContaining(['iam:AttachRolePolicy', 'iam:TagRole']));
        for (const c of denied) {
          expect(c.resource).toMatch(/:role\/TesseraBlueprintExecution$/);
          expect(c.detail).toMatch(/TesseraGuardrails\/ProtectTesseraRoles/);
        }
        expect(tierPasses(tier(planted, name))).toBe(false);
      }
    });

    it('instantiates the namespace blueprint for every tenant id in the platform account (a fixed bridge role name collides)', async () => {
      const fixedBridgeRole = (kind: Kind, _tier: string, t: CfnTemplate) => {
        // the bridge role only (the namespace blueprint's kubectl role keeps its tenant's name)
        if (kind === 'namespace') for (const r of resourcesOf(t, 'AWS::IAM::Role')) if (JSON.stringify(propsOf(r).RoleName).includes('pod-bridge')) propsOf(r).RoleName = 'tessera-pod-bridge';
        return t;
      };
      const planted = await plant(['starter'], { mutate: fixedBridgeRole });
      expect(tier(control, 'starter').collisions).toEqual([]);
      expect(tier(planted, 'starter').collisions).toEqual([{
        type: 'AWS::IAM::Role', scope: loaded.config.platformAccountId, name: 'tessera-pod-bridge',
        holders: ['acme/NamespaceBridgeRoleF4B347EA', 'globex/NamespaceBridgeRoleF4B347EA', 'a2345678901234567890123z/NamespaceBridgeRoleF4B347EA'],
      }]);
    });

    it('catches a vault name longer than AWS allows (66 characters; the schema pattern needs non-Unicode mode)', async () => {
      const longVaultName = onTenant((t) => {
        // 66 characters for tenant "acme": 'tessera-acme-' (13) + 53.
        for (const v of resourcesOf(t, 'AWS::Backup::BackupVault')) propsOf(v).BackupVaultName = { 'Fn::Sub': `tessera-\${TenantId}-${'v'.repeat(53)}` };
      });
      const planted = await plant(['starter'], { mutate: longVaultName });
      expect(tier(control, 'starter').nameViolations).toEqual([]);
      const vault = tier(planted, 'starter').nameViolations.filter((v) => v.type === 'AWS::Backup::BackupVault');
      expect([...new Set(vault.map((v) => v.tenantId))]).toEqual(['acme', 'globex', 'a2345678901234567890123z']);
      // The schema's pattern (compiled without the u flag it refuses) and AWS's 50-character limit both catch it.
      expect(vault.filter((v) => v.tenantId === 'acme')).toEqual([
        expect.objectContaining({ property: 'BackupVaultName', problem: 'length 66 > 50 (AWS\'s limit; the schema gives no maxLength)' }),
        expect.objectContaining({ property: 'BackupVaultName', problem: expect.stringMatching(/^does not match .*\{2,50\}\$ \(length 66\)$/) }),
      ]);
    });

    it('compiles schema patterns the way the schemas mean them, and fails loudly on one it cannot compile', () => {
      const vault = compileSchemaPattern('^[a-zA-Z0-9\\-\\_]{2,50}$');
      expect('regex' in vault && [vault.regex.test('v'.repeat(50)), vault.regex.test('v'.repeat(66))]).toEqual([true, false]);
      const logGroup = compileSchemaPattern('^[.\\-_/#A-Za-z0-9]{1,512}\\Z');
      expect('regex' in logGroup && [logGroup.regex.test('/tessera/acme/cache'), logGroup.regex.test('/tessera/acme Z')]).toEqual([true, false]);
      expect(compileSchemaPattern('(?i)^abc$')).toMatchObject({ regex: expect.objectContaining({ flags: 'iu' }) });
      expect(compileSchemaPattern('^[a-z')).toEqual({ error: expect.stringMatching(/Invalid regular expression/) });
      // A name whose schema pattern cannot be compiled is a violation, never a pass.
      const inst = instantiate({ Resources: { Vault: { Type: 'AWS::Backup::BackupVault', Properties: { BackupVaultName: 'tessera-acme-database' } } } }, { tenantId: 'acme', vpcCidr: '10.0.0.0/22', account: '333333333333', region: 'us-east-1' });
      const schemas = { property: () => ({ pattern: '^[a-z' }) } as unknown as ProviderSchemas;
      expect(checkNameConstraints(inst, schemas)).toEqual([expect.objectContaining({ logicalId: 'Vault', problem: expect.stringMatching(/cannot be compiled.*unchecked/) })]);
    });

    it('fails on a service-role action the simulator cannot evaluate, and lists services IAM does not know', async () => {
      const typoInFlowLogRole = onTenant((t) => {
        const flowLog = resourcesOf(t, 'AWS::EC2::FlowLog')[0];
        const roleId = (propsOf(flowLog).DeliverLogsPermissionArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
        // The role's delivery policy (a managed policy of the template): its handler permissions do not change.
        const policy = resourcesOf(t, 'AWS::IAM::ManagedPolicy').find((p) => JSON.stringify(propsOf(p).Roles).includes(`"${roleId}"`))!;
        (propsOf(policy).PolicyDocument as unknown as { Statement: unknown[] }).Statement.push({ Effect: 'Allow', Action: ['logs:PutLogEvent', 'nosuchservice:Get*'], Resource: '*' });
      });
      const planted = await plant(['starter'], { mutate: typoInFlowLogRole });
      expect(tier(control, 'starter').serviceRoles).toMatchObject({ errors: [], unknownServices: [] });
      const roles = tier(planted, 'starter').serviceRoles;
      expect(roles.errors).toEqual([expect.objectContaining({ roleLogicalId: expect.stringMatching(/^NetworkFlowLogRole/), action: 'logs:PutLogEvent', detail: expect.stringMatching(/^error: invalid\.action/) })]);
      expect(roles.unknownServices).toEqual([expect.stringMatching(/^NetworkFlowLogRole\w+: nosuchservice:Get\*$/)]);
      expect(tierPasses(tier(control, 'starter'))).toBe(true);
      expect(otherwiseClean(tier(planted, 'starter'))).toBe(true);
      expect(tierPasses(tier(planted, 'starter'))).toBe(false);
    });

    it('fails the CLI\'s verdict on a plain Retain, like the CI gate', async () => {
      const plainRetain = onTenant((t) => {
        const [id] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::Logs::LogGroup')!;
        (t.Resources[id] as { DeletionPolicy?: string }).DeletionPolicy = 'Retain';
      });
      const planted = await plant(['starter'], { mutate: plainRetain });
      expect(tier(control, 'starter').plainRetain).toEqual([]);
      expect(tier(planted, 'starter').plainRetain).toEqual([expect.objectContaining({ type: 'AWS::Logs::LogGroup', deletionPolicy: 'Retain' })]);
      expect(otherwiseClean(tier(planted, 'starter'))).toBe(true);
      expect(tierPasses(tier(planted, 'starter'))).toBe(false);
      expect(formatReport(planted)).toMatch(/== starter \(vpc isolation\): FAIL[\s\S]*RETAIN \w+ AWS::Logs::LogGroup has DeletionPolicy Retain/);
    });

    it('says "not applicable", not "passed", for a rule with no resource of its type', async () => {
      const addonRule = (r: PreflightReport, name: string) => tier(r, name).rules.find((x) => x.rule.id === 'eks-addon-resolve-conflicts')!;
      expect(ruleStatus(addonRule(control, 'starter'))).toBe('n/a');
      expect(ruleStatus(addonRule(control, 'enterprise'))).toBe('pass');
      const withoutAddons = onTenant((t) => {
        for (const [id, r] of Object.entries(t.Resources)) if (r.Type === 'AWS::EKS::Addon') delete (t.Resources as Record<string, unknown>)[id];
      });
      const planted = await plant(['enterprise'], { mutate: withoutAddons });
      expect(ruleStatus(addonRule(planted, 'enterprise'))).toBe('n/a');
      expect(tierPasses(tier(planted, 'enterprise'))).toBe(true);
      const text = formatReport(planted);
      expect(text).toMatch(/rule not applicable eks-addon-resolve-conflicts/);
      expect(text).toMatch(/\[enterprise\] .*service rules \d+ passed, 0 failed, 3 not applicable/); // eks-addon-resolve-conflicts, backup-restore-testing-windows and -rds-overrides (no DR tier here: no restore test)
    });

    it('catches a role that attaches an AWS-managed policy the execution role may not attach (iam:PolicyARN in the request)', async () => {
      const adminNodes = onTenant((t) => {
        for (const role of resourcesOf(t, 'AWS::IAM::Role')) {
          const arns = propsOf(role).ManagedPolicyArns as CfnValue[] | undefined;
          if (arns?.length) arns.push({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AdministratorAccess']] });
        }
      });
      const attachDenied = (r: PreflightReport) => blueprint(tier(r, 'enterprise'), 'enterprise.template.json').checks
        .filter((c) => c.outcome === 'denied' && c.action === 'iam:AttachRolePolicy' && c.detail.includes('AdministratorAccess'));
      expect(attachDenied(control)).toEqual([]);
      const planted = attachDenied(await plant(['enterprise'], { mutate: adminNodes }));
      expect(planted.length).toBeGreaterThan(0);
      expect(planted.every((c) => /ComputeNodeRole|ComputeClusterRole|DatabaseBackupRole/.test(c.logicalId))).toBe(true);
    }, 60_000);

    it('catches a quarantine SCP without the execution-role exemption (deploy denied, service roles denied)', async () => {
      const provisioningOnly: PolicyDocument = {
        Version: '2012-10-17',
        Statement: [{ Sid: 'DenyAllButProvisioning', Effect: 'Deny', Action: '*', Resource: '*', Condition: { ArnNotLike: { 'aws:PrincipalArn': `arn:aws:iam::*:role/${loaded.config.roles.provisioningRoleName}` } } }],
      };
      const planted = await plant(['enterprise'], { scpOverrides: { quarantine: provisioningOnly } });
      const t = tier(planted, 'enterprise');
      expect(tier(control, 'enterprise').blueprints[0].counts.denied).toBe(0);
      expect(t.blueprints[0].counts.denied).toBeGreaterThan(100);
      expect(t.blueprints[0].checks.find((c) => c.outcome === 'denied')?.detail).toMatch(/TesseraQuarantine\/DenyAllButProvisioning/);
      expect(t.serviceRoles.denials.length).toBeGreaterThan(0);
      // The provisioning role is still admitted: the baseline deploys.
      expect(blueprint(t, ACCOUNT_BASELINE_FILE_NAME).counts.denied).toBe(0);
    });

    it('catches a platform role a tier blueprint names as a principal that the platform stack renames, or leaves to a generated name (platform-principals-exist)', async () => {
      // Today's tier blueprints name the platform's roles only in aws:PrincipalArn conditions under the account root
      // (which AWS does not resolve): the planted blueprint names the router's and break-glass's roles as principals.
      const platformAccount = loaded.config.platformAccountId;
      const breakGlass = loaded.config.roles.breakGlassRoleName;
      for (const t of control.tiers) expect(t.rules.find((r) => r.rule.id === 'platform-principals-exist'), t.tierName).toMatchObject({ applicable: true, violations: [] });
      const namingPlatformRoles = onTenant((t) => {
        for (const [id, r] of Object.entries(t.Resources)) {
          const name = /^RolesModelInvoker/.test(id) ? 'tessera-gateway-router' : /^RolesBreakGlass/.test(id) ? breakGlass : undefined;
          if (r.Type !== 'AWS::IAM::Role' || !name) continue;
          for (const st of (propsOf(r).AssumeRolePolicyDocument as unknown as { Statement: Array<{ Principal?: unknown }> }).Statement) st.Principal = { AWS: `arn:aws:iam::${platformAccount}:role/${name}` };
        }
      });
      const asNamed = await plant(['enterprise'], { mutate: namingPlatformRoles });
      expect(tier(asNamed, 'enterprise').rules.find((r) => r.rule.id === 'platform-principals-exist')!.violations).toEqual([]);
      // The platform stack with the router's role renamed and break-glass's name left to CloudFormation.
      let routerId = '';
      let breakGlassId = '';
      const planted = await plant(['enterprise'], {
        mutate: (kind, tierName, t) => {
          if (kind !== 'platform') return namingPlatformRoles(kind, tierName, t);
          for (const [id, r] of Object.entries(t.Resources)) {
            const props = r.Type === 'AWS::IAM::Role' ? propsOf(r) : {};
            if (props.RoleName === 'tessera-gateway-router') (routerId = id, props.RoleName = 'tessera-gateway-router-v2');
            else if (props.RoleName === breakGlass) (breakGlassId = id, delete props.RoleName);
          }
          return t;
        },
      });
      const result = tier(planted, 'enterprise').rules.find((r) => r.rule.id === 'platform-principals-exist')!;
      expect(result.violations).toEqual([
        expect.stringMatching(new RegExp(`^enterprise\\.template\\.json: RolesModelInvoker\\w+ \\(AWS::IAM::Role\\) names arn:aws:iam::${platformAccount}:role/tessera-gateway-router in its AssumeRolePolicyDocument, which the platform stack \\(TesseraPlatform\\) does not create: its nearest role is tessera-gateway-router-v2 \\(${routerId}\\)$`)),
        expect.stringMatching(new RegExp(`^enterprise\\.template\\.json: RolesBreakGlass\\w+ \\(AWS::IAM::Role\\) names arn:aws:iam::${platformAccount}:role/${breakGlass} in its AssumeRolePolicyDocument, which the platform stack \\(TesseraPlatform\\) does not create: its nearest role is TesseraPlatform-[\\w-]+ \\(${breakGlassId}, a name CloudFormation generates\\)$`)),
      ]);
      expect(tierPasses(tier(planted, 'enterprise'))).toBe(false);
      // The blueprint's aws:PrincipalArn conditions name the same two roles: platform-principal-conditions-match sees them too.
      const conditions = tier(planted, 'enterprise').rules.find((r) => r.rule.id === 'platform-principal-conditions-match')!;
      expect(conditions.violations.map((v) => v.replace(/^enterprise\.template\.json: (RolesVectorStore|RolesModelInvoker|RolesBreakGlass)\w+ .* aws:PrincipalArn (\S+) matches no role .*: its nearest role is (tessera-gateway-router-v2|TesseraPlatform-BreakGlassRole).*$/, '$1 $2 $3'))).toEqual([
        `RolesVectorStore arn:aws:iam::${platformAccount}:role/tessera-gateway-router tessera-gateway-router-v2`,
        `RolesModelInvoker arn:aws:iam::${platformAccount}:role/tessera-gateway-router tessera-gateway-router-v2`,
        `RolesBreakGlass arn:aws:iam::${platformAccount}:role/${breakGlass} TesseraPlatform-BreakGlassRole`,
        `RolesBreakGlass arn:aws:iam::${platformAccount}:role/${breakGlass} TesseraPlatform-BreakGlassRole`,
      ]);
      expect(otherwiseClean({ ...tier(planted, 'enterprise'), rules: tier(planted, 'enterprise').rules.filter((r) => r !== result && r !== conditions) })).toBe(true); // the two rules alone fail it
      expect(formatReport(planted)).toContain(`  rule FAIL platform-principals-exist: ${result.rule.statement} (${result.rule.source})\n    - ${result.violations[0]}`);
      expect(formatReport(control)).toContain(`  rule pass platform-principals-exist: ${result.rule.statement} (${result.rule.source})`);
    });

    it('catches a misspelled platform role in a tier blueprint\'s aws:PrincipalArn condition, which AWS would take at create (platform-principal-conditions-match)', async () => {
      const platformAccount = loaded.config.platformAccountId;
      const rule = (r: PreflightReport, name: string) => tier(r, name).rules.find((x) => x.rule.id === 'platform-principal-conditions-match')!;
      for (const t of control.tiers) expect(rule(control, t.tierName), t.tierName).toMatchObject({ applicable: true, violations: [] });
      // The model invoker's trust names the router by an ArnEquals condition under the platform account's root.
      const misspelledRouter = onTenant((t) => {
        const [id, invoker] = Object.entries(t.Resources).find(([k, r]) => r.Type === 'AWS::IAM::Role' && /^RolesModelInvoker/.test(k))!;
        const text = JSON.stringify(invoker);
        expect(text, id).toContain(':role/tessera-gateway-router');
        t.Resources[id] = JSON.parse(text.replaceAll(':role/tessera-gateway-router', ':role/tessera-gateway-ruoter'));
      });
      const planted = await plant(['enterprise'], { mutate: misspelledRouter });
      const result = rule(planted, 'enterprise');
      expect(result.violations).toEqual([
        expect.stringMatching(new RegExp(`^enterprise\\.template\\.json: RolesModelInvoker\\w+ \\(AWS::IAM::Role\\) AssumeRolePolicyDocument statement #\\d+: ArnEquals aws:PrincipalArn arn:aws:iam::${platformAccount}:role/tessera-gateway-ruoter matches no role of the platform account \\(TesseraPlatform, the namespace stack, roles\\.tenantAdminRoleNamePatterns\\): its nearest role is tessera-gateway-router \\(InferenceRouterRole\\w+\\)$`)),
      ]);
      // Nothing else sees it (AWS creates the role): the rule alone fails the tier.
      expect(tier(planted, 'enterprise').rules.find((r) => r.rule.id === 'platform-principals-exist')!.violations).toEqual([]);
      expect(otherwiseClean({ ...tier(planted, 'enterprise'), rules: tier(planted, 'enterprise').rules.filter((r) => r !== result) })).toBe(true);
      expect(tierPasses(tier(planted, 'enterprise'))).toBe(false);
    });

    it('reports a missing account baseline as a blocker with every permission denied', async () => {
      const planted = await runPreflight({ ...loaded, baseline: undefined }, { onlyTiers: ['starter'] });
      expect(planted.baselinePresent).toBe(false);
      expect(planted.tiers[0].blockers[0]).toMatch(/account baseline/);
      expect(planted.tiers[0].blueprints.map((b) => b.blueprint)).not.toContain(ACCOUNT_BASELINE_FILE_NAME);
      // Only what the tenant key policy grants the execution role by name remains allowed (a key policy alone admits a same-account principal).
      const allowed = planted.tiers[0].blueprints[0].checks.filter((c) => c.outcome === 'allowed');
      expect(allowed.every((c) => c.action.startsWith('kms:'))).toBe(true);
      expect(planted.tiers[0].blueprints[0].counts.denied).toBeGreaterThan(1000);
    });
  });
}
