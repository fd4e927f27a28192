import { BackupClient, ListRecoveryPointsByBackupVaultCommand, BackupServiceException } from '@aws-sdk/client-backup';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTesseraProgram } from '../../../lib/cli/program.js';
import { restoredDatabaseTemplate } from '../../../lib/cli/failover-restored-database.js';
import { TENANT_ID_PATTERN } from '../../../lib/tenant-naming.js';
import { isTenantId } from '../../../lib/tenant-record.js';
import { failoverPlan, failoverPlanLines, KEEP_RECOVERY_POINT_DAYS, PLAN_RECOVERY_POINTS } from '../../../lib/cli/tenants-failover-command.js';
import { tenantsCommand } from '../../../lib/cli/tenants-command.js';
import { COMPLETE } from '../../support/complete-config.js';
import { configWith } from '../../support/synth.js';
import { tempDir } from '../../support/temp-dirs.js';
import { motoPython } from '../../integration/support/moto-server.js';

// GIVEN a tier with DR in us-west-2 (RPO 2 h, RTO 4 h) and the platform's own DR there too
const DR = { starter: { disasterRecovery: { region: 'us-west-2', rpoHours: 2, rtoHours: 4 } } };
const config = configWith({ tiers: DR, platformDisasterRecovery: { region: 'us-west-2' } });
const now = new Date('2026-12-01T12:00:00Z');
const point = (hoursAgo: number, type = 'RDS', status = 'COMPLETED') => ({
  arn: `arn:aws:backup:us-west-2:210987654321:recovery-point:${type}-${hoursAgo}`, resourceType: type, createdAt: new Date(now.getTime() - hoursAgo * 3_600_000).toISOString(), status,
});
const base = { tenantId: 'acme', tier: 'starter', accountId: '210987654321', config, now };

describe('failoverPlan', () => {
  it('names the tenant\'s DR region, stack, bucket, vault and key, and its tier\'s RPO/RTO', () => {
    const plan = failoverPlan({ ...base, disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString() }, recoveryPoints: { points: [point(3), point(1)] } });
    expect(plan).toMatchObject({
      homeRegion: 'us-east-1', drRegion: 'us-west-2', rpoHours: 2, rtoHours: 4,
      drStack: { name: 'tessera-acme-dr', status: 'ACTIVE' },
      drBucket: 'tessera-acme-dr-210987654321-us-west-2', drVault: 'tessera-acme-dr', drKeyAlias: 'alias/tessera-acme-dr',
      platform: { drRegion: 'us-west-2', registryVault: 'tessera-platform-dr', auditReplica: `tessera-audit-replica-${config.platformAccountId}-us-west-2` },
    });
    // newest first; the newest completed one is 1 h old: within the 2 h RPO
    expect(plan.recoveryPoints.map((r) => r.arn)).toEqual([point(1).arn, point(3).arn]);
    expect(plan).toMatchObject({ newestRecoveryPointAgeHours: 1, withinRpo: true });
    expect(failoverPlanLines(plan)).toMatch(/latest restore test: none recorded/);
  });

  it('shows the latest restore test the registry recorded', () => {
    const latestRestoreTest = { restoreJobId: 'job-9', status: 'COMPLETED', validationStatus: 'SUCCESSFUL', at: '2026-11-28T03:10:00Z' };
    const plan = failoverPlan({ ...base, disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString(), latestRestoreTest }, recoveryPoints: { points: [] } });
    expect(plan.latestRestoreTest).toEqual(latestRestoreTest);
    expect(failoverPlanLines(plan)).toMatch(/latest restore test: COMPLETED, validation SUCCESSFUL at 2026-11-28T03:10:00Z \(job job-9\)/);
  });

  it('gives the steps in order: keep the recovery point, declare, registry, audit, rebuild from the failover blueprint, restore into its network, IAM auth and secret on it, redeploy pointing at it, objects, DNS, record', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(5)] } });
    expect(plan.steps.map((s) => s.title)).toEqual([
      'Keep the DR recovery point', 'Declare the failover', 'Restore the tenant registry in the platform DR region', 'Audit trail',
      'Rebuild the tenant from the failover blueprint in the DR region', 'Restore the tenant database from the DR vault',
      'Turn on IAM database authentication and a managed master secret on the restored database', 'Point the rebuilt stack at the restored database',
      'Tenant objects from the DR bucket', 'DNS and gateway', 'Record the recovery',
    ]);
    const restore = plan.steps[5].commands.join('\n');
    expect(restore).toContain(`--recovery-point-arn ${point(5).arn}`);
    expect(restore).toContain('--region us-west-2 --backup-vault-name tessera-acme-dr');
    expect(plan.steps[8].commands[0]).toBe('aws s3 ls s3://tessera-acme-dr-210987654321-us-west-2/ --region us-west-2');
    // the audit replica holds the tenant's records under tessera-audit/dr-tier/ only (the none tiers' stay home)
    expect(plan.steps[3].title).toBe('Audit trail');
    // one listing per replicated stream: the lifecycle records (protection lifts, fine-tuning retirement) and the fine-tuning ones too (s23)
    expect(plan.steps[3].commands).toEqual(['inference', 'fine-tuning', 'lifecycle'].map((s) => `aws s3 ls s3://tessera-audit-replica-222222222222-us-west-2/tessera-audit/dr-tier/${s}/acme/ --recursive --region us-west-2`));
    expect(plan.steps[3].detail).toMatch(/AWSLogs\/.*tessera-audit\/dr-tier\/inference\/acme\/.*tessera-audit\/dr-tier\/lifecycle\/acme\/.*stay in us-east-1/);
    expect(plan.steps[8].commands[1]).toMatch(/^aws s3 sync s3:\/\/tessera-acme-dr-210987654321-us-west-2\/ s3:\/\/<BucketName output>\/ --region us-west-2 --sse aws:kms --sse-kms-key-id <KeyArn output>$/);
    // 5 h old against a 2 h RPO
    expect(plan).toMatchObject({ newestRecoveryPointAgeHours: 5, withinRpo: false });
    expect(failoverPlanLines(plan)).toMatch(/OLDER THAN THE RPO/);
  });

  it('first extends the lifecycle of the recovery point it restores from (the frequent copies expire after ceil(rtoHours/24) days)', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(5), point(1)] } });
    const [keep] = plan.steps;
    expect(keep.commands).toEqual([
      `aws backup update-recovery-point-lifecycle --region us-west-2 --backup-vault-name tessera-acme-dr --recovery-point-arn ${point(1).arn} --lifecycle DeleteAfterDays=${KEEP_RECOVERY_POINT_DAYS}`,
    ]);
    expect(keep.detail).toMatch(/after ceil\(4 h \/ 24\) = 1 day/);
    // the same point is the one restored
    expect(plan.steps[5].commands.find((c) => c.includes('start-restore-job'))).toContain(`--recovery-point-arn ${point(1).arn}`);
    // without a listed point, the first step lists them and the lifecycle command names what to fill in
    const blind = failoverPlan({ ...base, recoveryPoints: { error: 'AccessDeniedException: no' } });
    expect(blind.steps[0].commands[0]).toBe('aws backup list-recovery-points-by-backup-vault --region us-west-2 --backup-vault-name tessera-acme-dr --by-resource-type RDS');
    expect(blind.steps[0].commands[1]).toMatch(/^aws backup update-recovery-point-lifecycle .* --recovery-point-arn <newest COMPLETED recovery point ARN, from the list above> --lifecycle DeleteAfterDays=35$/);
  });

  it('restores as the DR blueprint\'s restore role (not restore-testing), as tessera-<id>-restored in the rebuilt subnet group and security group', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(1)] } });
    const start = plan.steps[5].commands.find((c) => c.includes('start-restore-job'))!;
    const role = /--iam-role-arn (\S+)/.exec(start)![1];
    expect(role).toMatch(/^arn:aws:iam::210987654321:role\/[\w+=,.@/-]+$/);
    expect(role).toBe('arn:aws:iam::210987654321:role/tessera/service-role/tessera-acme-dr-restore');
    expect(start).not.toContain('restore-testing');
    expect(start).toMatch(/^aws backup start-restore-job --region us-west-2 --recovery-point-arn \S+ --iam-role-arn \S+ --resource-type RDS --metadata '(.+)'$/);
    const metadata = JSON.parse(/--metadata '(.+)'$/.exec(start)![1]);
    expect(metadata).toEqual({ DBInstanceIdentifier: 'tessera-acme-restored', DBSubnetGroupName: '<DBSubnetGroupName above>', VpcSecurityGroupIds: '["<VpcSecurityGroupIds above>"]' });
    // the subnet group and security group are read from the rebuilt stack's own (empty) instance, before the restore
    const describe = plan.steps[5].commands.findIndex((c) => c.startsWith('aws rds describe-db-instances --region us-west-2 --db-instance-identifier tessera-acme '));
    expect(describe).toBeGreaterThanOrEqual(0);
    expect(describe).toBeLessThan(plan.steps[5].commands.indexOf(start));
  });

  it('rebuilds the tenant from the tier\'s failover blueprint in the DR region with CloudFormation (not tessera tenants update), naming its parameters, before the restore', () => {
    const plan = failoverPlan({ ...base, vpcCidr: '10.20.0.0/16', recoveryPoints: { points: [point(1)] } });
    const commands = plan.steps.flatMap((s) => s.commands);
    expect(commands.some((c) => c.startsWith('tessera tenants update'))).toBe(false);
    const rebuild = plan.steps[4];
    expect(rebuild.commands).toEqual([
      'npx cdk synth --quiet -c tessera:configFile=<this config file>',
      // the VPC's zones in the DR region (the home region's recorded ones are other names): the tier's maxAzs, available, by name
      'aws ec2 describe-availability-zones --region us-west-2 --profile <a profile for account 210987654321: its TesseraProvisioning role, as the deploy> --filters Name=zone-type,Values=availability-zone Name=state,Values=available Name=opt-in-status,Values=opt-in-not-required,opted-in --query "join(\',\', sort_by(AvailabilityZones, &ZoneName)[].ZoneName | [:2])" --output text',
      // the failover variant's file (TesseraTenantFailover-starter), not the tier blueprint's; no named IAM resource in it
      'aws cloudformation deploy --region us-west-2 --stack-name tessera-acme --template-file cdk.out/assembly-Blueprints/BlueprintsTesseraTenantFailoverstarter????????.template.json --s3-bucket <your bucket in us-west-2> --parameter-overrides TenantId=acme VpcCidr=10.20.0.0/16 AvailabilityZones=<the describe-availability-zones lookup\'s output: 2 zone names, comma-separated> DatabaseDeletionProtection=false --capabilities CAPABILITY_IAM --role-arn arn:aws:iam::210987654321:role/TesseraBlueprintExecution',
      'aws cloudformation describe-stacks --region us-west-2 --stack-name tessera-acme --query "Stacks[0].Outputs"',
    ]);
    // the blocker is gone: the home stack's global roles are imported, not created again
    expect(rebuild.detail).not.toMatch(/KNOWN BLOCKER|already exists/);
    // with --config, the synth names that file
    expect(failoverPlan({ ...base, configFile: 'dr.yaml', recoveryPoints: { points: [] } }).steps[4].commands[0]).toBe('npx cdk synth --quiet -c tessera:configFile=dr.yaml');
    expect(rebuild.detail).toMatch(/tessera-acme-admin, tessera-acme-break-glass and the tier's others\) still exist under the home stack tessera-acme and are imported by name/);
    // who deploys it: the provisioning role (the guardrail SCP's only passer of the execution role), CloudFormation as the execution role
    expect(rebuild.detail).toContain(`as the account's provisioning role ${config.roles.provisioningRoleName} (the guardrail SCP lets only it pass the execution role to CloudFormation and change tessera-* stacks), with --role-arn arn:aws:iam::210987654321:role/${config.roles.blueprintExecutionRoleName}`);
    expect(rebuild.detail).toMatch(/KMS's CreateKey refuses a key policy that would lock out its caller, so other credentials cannot create this stack/);
    expect(rebuild.detail).not.toMatch(/administrator credentials|limited to us-east-1 and the DR stores/);
    // starter is a vpc tier: what the workload provisioning role may do in the DR region (constructs/workload-provisioning-role.ts), no gap
    expect(rebuild.detail).toContain(`the workload provisioning role ${config.roles.provisioningRoleName} (its DisasterRecovery policy, from the workload provisioning template deployed with this config) may in us-west-2 change stacks tessera-acme and tessera-acme-restored only through CloudFormation as ${config.roles.blueprintExecutionRoleName}: create-change-set and update-stack only with --role-arn arn:aws:iam::210987654321:role/${config.roles.blueprintExecutionRoleName}, an import only of AWS::RDS::DBInstance and only into tessera-acme-restored.`);
    expect(rebuild.detail).toMatch(/the --s3-bucket bucket, in this account, needs a bucket policy that allows it s3:PutObject and s3:GetObject/);
    expect(rebuild.detail).not.toMatch(/may today|until its policy also covers|CloudFormation refuses these deploys/);
    expect(failoverPlan({ ...base, tier: 'enterprise', config: configWith({ tiers: { enterprise: DR.starter } }), recoveryPoints: { points: [] } }).steps[4].detail).not.toMatch(/workload provisioning role/);
    expect(rebuild.detail).toMatch(/IAM's control plane \(in us-east-1/);
    expect(commands.findIndex((c) => c.startsWith('aws cloudformation deploy'))).toBeLessThan(commands.findIndex((c) => c.includes('start-restore-job') && c.includes('tessera-acme-dr-restore')));
    // offline, the VpcCidr is named for the operator to fill in
    expect(failoverPlan({ ...base, recoveryPoints: { points: [] } }).steps[4].commands[2]).toContain('VpcCidr=<the tenant\'s VpcCidr, from its registry record>');
  });

  it('the zone lookup prints the AvailabilityZones value as the List parameter takes it, "a,b" (JMESPath join), not the TAB-separated list --output text makes of a list; Availability Zones only, by name, without EKS-unsupported zone IDs for a dedicated tier', () => {
    // The AWS CLI evaluates --query with (Python) jmespath, which botocore ships; moto's venv has it (node scripts/ensure-moto.mjs).
    const evaluate = (query: string, answer: unknown) => execFileSync(motoPython(), ['-c', 'import jmespath, json, sys; print(jmespath.search(sys.argv[1], json.load(sys.stdin)))', query], { input: JSON.stringify(answer) }).toString().trim();
    const zone = (name: string, id: string) => ({ ZoneName: name, ZoneId: id, ZoneType: 'availability-zone', State: 'available', OptInStatus: 'opt-in-not-required' });
    // us-west-2's answer, out of order; usw2-az1 stands in for an EKS-unsupported ID below (us-west-2 has none)
    const answer = { AvailabilityZones: [zone('us-west-2c', 'usw2-az3'), zone('us-west-2a', 'usw2-az2'), zone('us-west-2b', 'usw2-az1'), zone('us-west-2d', 'usw2-az4')] };
    const lookupOf = (plan: ReturnType<typeof failoverPlan>) => plan.steps[4].commands[1];
    const queryOf = (command: string) => /--query "(.*)" --output text$/.exec(command)![1];
    const shared = lookupOf(failoverPlan({ ...base, recoveryPoints: { points: [] } }));
    expect(shared).toMatch(/^aws ec2 describe-availability-zones --region us-west-2 --profile <a profile for account 210987654321: [^>]*> --filters Name=zone-type,Values=availability-zone Name=state,Values=available Name=opt-in-status,Values=opt-in-not-required,opted-in --query "join\(',', .*\)" --output text$/);
    // the printed value is one comma-separated string: what --output text prints of a string is the string itself
    expect(evaluate(queryOf(shared), answer)).toBe('us-west-2a,us-west-2b');
    const dedicated = lookupOf(failoverPlan({ ...base, tier: 'enterprise', config: configWith({ tiers: { enterprise: DR.starter } }), recoveryPoints: { points: [] } }));
    expect(dedicated).toContain(`[?ZoneId!='use1-az3' && ZoneId!='usw1-az2' && ZoneId!='cac1-az3']`);
    expect(evaluate(queryOf(dedicated).replace("ZoneId!='use1-az3'", "ZoneId!='usw2-az1'"), answer)).toBe('us-west-2a,us-west-2c,us-west-2d');
  });

  it('tells how to synthesize the failover blueprint of a tenant whose tier lost its DR (RETAINED DR stack)', () => {
    const plan = failoverPlan({ ...base, tier: 'professional', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'RETAINED', updatedAt: now.toISOString() }, recoveryPoints: { points: [point(1)] } });
    expect(plan.steps[4].commands[0]).toBe('npx cdk synth --quiet -c tessera:configFile=<a copy of this config with tiers.professional.disasterRecovery set to { region: us-west-2, rpoHours: 24, rtoHours: 168 }>');
    expect(plan.steps[4].commands[2]).toContain('BlueprintsTesseraTenantFailoverprofessional????????.template.json');
    expect(plan.steps[4].detail).toMatch(/Tier professional has disasterRecovery none now/);
  });

  // Faults pass: the template's own pattern lacked `(?!.*--)`, so the restored-database stack took `ab--cd`, which
  // TenantId, isTenantId and the tenant stacks refuse (RDS refuses two hyphens in a row in an instance identifier).
  it('refuses in the restored-database template\'s TenantId what every other tenant id check refuses: one pattern', () => {
    const { AllowedPattern } = (restoredDatabaseTemplate().Parameters as Record<string, { AllowedPattern: string }>).TenantId;
    expect(AllowedPattern).toBe(TENANT_ID_PATTERN);
    // CloudFormation matches the whole value (Java's `matches`)
    const allowed = new RegExp(`^(?:${AllowedPattern})$`);
    for (const id of ['acme', 'ab--cd', 'a-b-c', 'acme-', '9acme', 'ab', 'a'.repeat(25)]) expect(allowed.test(id), id).toBe(isTenantId(id));
    expect(allowed.test('ab--cd')).toBe(false);
  });

  it('turns on IAM database authentication and a managed master secret under the rebuilt stack\'s tenant key on the restored instance through CloudFormation as the execution role (import, then update), then reads its DbiResourceId, endpoint and secret', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(1)] } });
    const step = plan.steps[6];
    const role = `--role-arn arn:aws:iam::210987654321:role/${config.roles.blueprintExecutionRoleName}`;
    const [importCs, waitCs, execute, waitImport, update, waitUpdate, outputs, describe] = step.commands;
    expect(step.commands).toHaveLength(8);
    expect(importCs).toMatch(new RegExp(`^aws cloudformation create-change-set --region us-west-2 --stack-name tessera-acme-restored --change-set-name import-restored-database --change-set-type IMPORT --resources-to-import '(.*)' --template-body '(.*)' --parameters ParameterKey=TenantId,ParameterValue=acme ${role}$`));
    const [, resources, body] = /--resources-to-import '([^']*)' --template-body '([^']*)'/.exec(importCs)!;
    expect(JSON.parse(resources!)).toEqual([{ ResourceType: 'AWS::RDS::DBInstance', LogicalResourceId: 'RestoredDatabase', ResourceIdentifier: { DBInstanceIdentifier: 'tessera-acme-restored' } }]);
    // the template: the restored instance kept on delete, and the modify only with the key given
    const template = JSON.parse(body!);
    expect(template.Resources.RestoredDatabase).toMatchObject({ Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(template.Resources.RestoredDatabase.Properties).toEqual({
      DBInstanceIdentifier: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-restored']] },
      EnableIAMDatabaseAuthentication: { 'Fn::If': ['SecretKeyGiven', true, { Ref: 'AWS::NoValue' }] },
      ManageMasterUserPassword: { 'Fn::If': ['SecretKeyGiven', true, { Ref: 'AWS::NoValue' }] },
      MasterUserSecret: { 'Fn::If': ['SecretKeyGiven', { KmsKeyId: { Ref: 'TenantKeyArn' } }, { Ref: 'AWS::NoValue' }] },
      // the live data's instance: deletion protection on with the update (an import applies no property)
      DeletionProtection: { 'Fn::If': ['SecretKeyGiven', true, { Ref: 'AWS::NoValue' }] },
    });
    expect(template.Conditions.SecretKeyGiven).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'TenantKeyArn' }, ''] }] });
    expect(template.Parameters.TenantKeyArn.Default).toBe('');
    expect(Object.keys(template.Outputs).sort()).toEqual(['DbiResourceId', 'Endpoint', 'SecretArn']);
    expect(waitCs).toBe('aws cloudformation wait change-set-create-complete --region us-west-2 --stack-name tessera-acme-restored --change-set-name import-restored-database');
    expect(execute).toBe('aws cloudformation execute-change-set --region us-west-2 --stack-name tessera-acme-restored --change-set-name import-restored-database');
    expect(waitImport).toBe('aws cloudformation wait stack-import-complete --region us-west-2 --stack-name tessera-acme-restored');
    expect(update).toBe(`aws cloudformation update-stack --region us-west-2 --stack-name tessera-acme-restored --use-previous-template --parameters ParameterKey=TenantId,UsePreviousValue=true ParameterKey=TenantKeyArn,ParameterValue=<KeyArn output> ${role}`);
    expect(waitUpdate).toBe('aws cloudformation wait stack-update-complete --region us-west-2 --stack-name tessera-acme-restored');
    expect(outputs).toBe('aws cloudformation describe-stacks --region us-west-2 --stack-name tessera-acme-restored --query "Stacks[0].Outputs"');
    expect(describe).toBe('aws rds describe-db-instances --region us-west-2 --db-instance-identifier tessera-acme-restored --query "DBInstances[0].{DbiResourceId:DbiResourceId,Endpoint:Endpoint.Address,Port:Endpoint.Port,SecretArn:MasterUserSecret.SecretArn,IamAuth:IAMDatabaseAuthenticationEnabled}"');
    // no direct modify-db-instance: nobody but CloudFormation can act as the execution role
    expect(plan.steps.flatMap((s) => s.commands).some((c) => c.startsWith('aws rds modify-db-instance'))).toBe(false);
    // why: a snapshot restore has IAM authentication off by default and brings no managed secret (Oracle only on restore)
    expect(step.detail).toMatch(/EnableIAMDatabaseAuthentication, default false/);
    expect(step.detail).toMatch(/ManageMasterUserPassword on restore is for RDS for Oracle only/);
    // who may run it: a principal the tenant key admits through RDS and Secrets Manager, reached through CloudFormation
    expect(step.detail).toContain(`only the blueprint execution role ${config.roles.blueprintExecutionRoleName}, which only CloudFormation can assume`);
    expect(step.detail).toMatch(/rds:ModifyDBInstance on tessera-acme-restored, secretsmanager:CreateSecret and TagResource on rds!\*, the tenant key through Secrets Manager, all in us-west-2/);
    expect(step.detail).not.toMatch(/grants neither in the DR region today/);
    expect(step.detail).toContain(`as the provisioning role ${config.roles.provisioningRoleName} ${role}`.replace(' --role-arn', ' with --role-arn'));
    // it follows the restore and the rebuild whose KeyArn output it names
    const commands = plan.steps.flatMap((s) => s.commands);
    expect(commands.indexOf(importCs!)).toBeGreaterThan(commands.findIndex((c) => c.includes('start-restore-job')));
  });

  it('redeploys the failover blueprint with the restored instance\'s DbiResourceId, endpoint and secret, after reading them and before the objects and DNS', () => {
    const plan = failoverPlan({ ...base, vpcCidr: '10.20.0.0/16', recoveryPoints: { points: [point(1)] } });
    const step = plan.steps[7];
    expect(step.commands).toEqual([
      'aws cloudformation deploy --region us-west-2 --stack-name tessera-acme --template-file cdk.out/assembly-Blueprints/BlueprintsTesseraTenantFailoverstarter????????.template.json --s3-bucket <your bucket in us-west-2> --parameter-overrides TenantId=acme VpcCidr=10.20.0.0/16 DatabaseDeletionProtection=false RestoredDbiResourceId=<DbiResourceId above> RestoredDatabaseEndpoint=<Endpoint above> RestoredDatabaseCredentialsArn=<SecretArn above> --capabilities CAPABILITY_IAM --role-arn arn:aws:iam::210987654321:role/TesseraBlueprintExecution',
      'aws cloudformation describe-stacks --region us-west-2 --stack-name tessera-acme --query "Stacks[0].Outputs[?starts_with(OutputKey, \'Database\')]"',
    ]);
    // the same stack, template file and parameters as the rebuild, plus the three of the restored instance; AvailabilityZones
    // left out, so that aws cloudformation deploy keeps the stack's value (UsePreviousValue), the one step 5 passed
    const rebuildDeploy = plan.steps[4].commands[2];
    expect(step.commands[0].startsWith(rebuildDeploy.replace(/ --capabilities CAPABILITY_IAM --role-arn \S+$/, '').replace(/ AvailabilityZones=<[^>]*>/, ''))).toBe(true);
    expect(step.commands[0]).not.toContain('AvailabilityZones');
    expect(step.detail).toContain('so the stack keeps the same value as step 5');
    expect(step.commands[0].endsWith(' --capabilities CAPABILITY_IAM --role-arn arn:aws:iam::210987654321:role/TesseraBlueprintExecution')).toBe(true);
    expect(step.detail).toMatch(/as in the rebuild \(the provisioning role, --role-arn the execution role/);
    // the grants it adds: the restored instance's resource id and the tenant's users, never a wildcard
    expect(step.detail).toContain('arn:aws:rds-db:us-west-2:210987654321:dbuser:<DbiResourceId>/<user>');
    expect(step.detail).toMatch(/tessera-acme-workload may connect as tenant_app .* tessera-acme-admin as tenant_admin, on that instance only \(no dbuser:\* grant/);
    expect(step.detail).toMatch(/No tenant role gets the master secret/);
    // in order: the describe that gives the values, this redeploy, then the objects and DNS
    const commands = plan.steps.flatMap((s) => s.commands);
    const read = commands.findIndex((c) => c.startsWith('aws rds describe-db-instances') && c.includes('DbiResourceId:DbiResourceId'));
    expect(read).toBeGreaterThanOrEqual(0);
    expect(read).toBeLessThan(commands.indexOf(step.commands[0]));
    expect(commands.indexOf(step.commands[0])).toBeLessThan(commands.findIndex((c) => c.startsWith('aws s3 sync')));
    // offline, the VpcCidr is still named for the operator to fill in
    expect(failoverPlan({ ...base, recoveryPoints: { points: [] } }).steps[7].commands[0]).toContain('VpcCidr=<the tenant\'s VpcCidr, from its registry record>');
  });

  it('ignores recovery points that are not COMPLETED for the RPO, and keeps at most the newest few', () => {
    const many = Array.from({ length: 9 }, (_, i) => point(i + 2));
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(0.5, 'RDS', 'PARTIAL'), ...many] } });
    expect(plan.recoveryPoints).toHaveLength(PLAN_RECOVERY_POINTS);
    expect(plan.newestRecoveryPointAgeHours).toBe(2);
  });

  it('prints the recorded restore test\'s message and a listing error with their control characters escaped (printable): AWS Backup\'s text cannot print over other lines', () => {
    const latestRestoreTest = { restoreJobId: 'job-9', status: 'FAILED', at: '2026-11-28T03:10:00Z', message: 'restore failed\r  latest restore test: COMPLETED\u001b[2K' };
    const plan = failoverPlan({ ...base, disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString(), latestRestoreTest }, recoveryPoints: { error: 'AccessDenied\nrecovery points: none' } });
    const lines = failoverPlanLines(plan);
    expect(lines).toContain('(job job-9): restore failed\\r  latest restore test: COMPLETED\\u001b[2K');
    expect(lines).toContain('recovery points: not listed (AccessDenied\\nrecovery points: none)');
    expect(lines).not.toMatch(/[\r\u001b]/);
  });

  it('still prints a plan when the vault could not be listed, saying why', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { error: 'AccessDeniedException: not authorized' } });
    expect(plan).toMatchObject({ recoveryPointsError: 'AccessDeniedException: not authorized', recoveryPoints: [], withinRpo: undefined });
    expect(failoverPlanLines(plan)).toMatch(/recovery points: not listed \(AccessDeniedException/);
    expect(plan.steps[5].commands.find((c) => c.includes('start-restore-job'))).toContain('<newest COMPLETED recovery point ARN, from the list above>');
  });

  it('says the registry has no DR copy with platformDisasterRecovery none', () => {
    const plan = failoverPlan({ ...base, config: configWith({ tiers: DR }), recoveryPoints: { points: [] } });
    expect(plan.platform).toEqual({ drRegion: undefined, registryVault: undefined, auditReplica: undefined });
    expect(plan.steps[2].title).toBe('Tenant registry: no platform DR region');
  });

  it('follows a tenant moved to a tier without DR to its retained DR stack, with no RPO/RTO promised', () => {
    const plan = failoverPlan({ ...base, tier: 'professional', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'RETAINED', updatedAt: now.toISOString() }, recoveryPoints: { points: [point(1)] } });
    expect(plan).toMatchObject({ drRegion: 'us-west-2', drStack: { status: 'RETAINED' }, withinRpo: undefined });
    expect(Number.isNaN(plan.rpoHours)).toBe(true);
    // the last step names what to record the measured RPO/RTO against: the promise the tier had before
    expect(plan.steps[10].detail).toMatch(/Record both against the RPO and RTO the tier promised before it lost disaster recovery \(its config has none now\)\.$/);
    expect(failoverPlan({ ...base, recoveryPoints: { points: [point(1)] } }).steps[10].detail).toMatch(/Record both against the tier's RPO 2 h \/ RTO 4 h\.$/);
  });

  it('step 3 (registry, API keys, usage ledger): deploys the platform in the DR region from a changed config first, restores the newest COMPLETED copy of each table into another table as a named role, then copies its items', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(1)] } });
    const step = plan.steps[2];
    const role = `arn:aws:iam::${config.platformAccountId}:role/service-role/AWSBackupDefaultServiceRole`;
    expect(step.commands).toEqual([
      `npx cdk bootstrap aws://${config.platformAccountId}/us-west-2`,
      'npx cdk deploy TesseraPlatform -c tessera:configFile=<the copy of this config for us-west-2>',
      ...['tessera-tenants', 'tessera-gateway-api-keys', 'tessera-usage'].flatMap((table) => [
        `aws backup list-recovery-points-by-backup-vault --region us-west-2 --backup-vault-name tessera-platform-dr --by-resource-arn arn:aws:dynamodb:us-east-1:${config.platformAccountId}:table/${table} --query 'sort_by(RecoveryPoints[?Status==\`COMPLETED\`],&CreationDate)[-1].RecoveryPointArn' --output text`,
        `aws backup start-restore-job --region us-west-2 --recovery-point-arn <RecoveryPointArn above> --iam-role-arn ${role} --resource-type DynamoDB --metadata TargetTableName=${table}-restored`,
        'aws backup describe-restore-job --region us-west-2 --restore-job-id <RestoreJobId above>',
        `aws dynamodb scan --region us-west-2 --table-name ${table}-restored --output json | jq -c '.Items[]' | while read -r item; do aws dynamodb put-item --region us-west-2 --table-name ${table} --item "$item"; done`,
      ]),
      'aws dynamodb get-item --region us-west-2 --table-name tessera-tenants --key \'{"tenantId":{"S":"acme"}}\' --projection-expression vpcCidr --query Item.vpcCidr.S --output text',
    ]);
    // never "newest" by --max-results 1 (the API's order is not by date), never into the table the platform deploy creates
    expect(step.commands.join('\n')).not.toMatch(/--max-results 1|TargetTableName=tessera-tenants(\s|$)/);
    // the config the platform deploy needs there: each refusal of homeRegion = DR region named
    for (const change of ['homeRegion us-west-2', 'platformDisasterRecovery none', 'every tier\'s disasterRecovery none, or a region other than us-west-2', 'trainingImage and servingImage from us-west-2', 'AWSBackupServiceRolePolicyForRestores']) expect(step.detail).toContain(change);
    // with the VPC range known, no get-item
    expect(failoverPlan({ ...base, vpcCidr: '10.64.4.0/22', recoveryPoints: { points: [] } }).steps[2].commands.some((c) => c.includes('get-item'))).toBe(false);
  });

  it('says where VpcCidr comes from when the plan was made without the registry, and uses --vpc-cidr when given', () => {
    const offline = failoverPlan({ ...base, recoveryPoints: { points: [] } });
    expect(offline.steps[4].detail).toMatch(/VpcCidr is not known to this plan \(pass --vpc-cidr\).*nothing else in the DR region carries.*registry restored in step 3.*runbook binder/);
    const noPlatformDr = failoverPlan({ ...base, config: configWith({ tiers: DR }), recoveryPoints: { points: [] } });
    expect(noPlatformDr.steps[4].detail).not.toContain('step 3');
    expect(noPlatformDr.steps[4].detail).toContain('runbook binder');
    const known = failoverPlan({ ...base, vpcCidr: '10.64.4.0/22', recoveryPoints: { points: [] } });
    expect(known.steps[4].detail).not.toContain('VpcCidr is not known');
    expect(known.steps[4].commands[2]).toContain('VpcCidr=10.64.4.0/22 ');
    expect(known.steps[7].commands[0]).toContain('VpcCidr=10.64.4.0/22 ');
  });

  it('step 2 says what the Health API needs; step 3 restores the registry, the API keys and the usage ledger; step 10: the API keys are step 3\'s copy (revoke again, reissue the newest), budgets count from its ledger; or both start empty without platform DR', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [] } });
    expect(plan.steps[1].detail).toMatch(/Business, Enterprise On-Ramp or Enterprise support plan .* us-east-1 .*AWS Health Dashboard/);
    expect(plan.steps[2].detail).toMatch(/then the same for the API keys table tessera-gateway-api-keys \(copied with the registry\), through tessera-gateway-api-keys-restored/);
    expect(plan.steps[9].detail).toMatch(/API keys are the copy restored in step 3, up to about an hour old: a key revoked in the last hour before the loss is active again there \(revoke it again/);
    expect(plan.steps[2].detail).toMatch(/and for the usage ledger tessera-usage, through tessera-usage-restored, so budgets and rate counts go on from the copy \(up to about an hour of usage uncounted\) instead of from zero/);
    expect(plan.steps[9].detail).toMatch(/budgets count from the usage ledger restored in step 3 \(up to about an hour of usage uncounted/);
    const noPlatformDr = failoverPlan({ ...base, config: configWith({ tiers: DR }), recoveryPoints: { points: [] } });
    expect(noPlatformDr.steps[9].detail).toMatch(/empty API keys table \(platformDisasterRecovery is none: no table is copied out of us-east-1\), so reissue .*tessera keys create --tenant acme/);
    expect(noPlatformDr.steps[9].detail).toMatch(/starts with an empty usage ledger \(no table is copied out of us-east-1\): budgets and rate counts start from zero there/);    // the gateway policy is replaced whole: the step starts from the current one, so the guardrail and the rest stay
    expect(noPlatformDr.steps[9].detail).toContain("replaces the whole gateway policy, so start from the tenant's current one (`tessera --json tenants show acme | jq '.gateway // {}' > policy.json`), lower monthlyTokenBudget or monthlyCostBudgetUsd in it and PUT it back (a file with the budget alone would drop the rest, maxTokens, fallbacks and the guardrails with bedrockGuardrailId and redactResponses, to their defaults).");
    // every step's text closes the parentheses it opens
    for (const p of [plan, noPlatformDr]) for (const step of p.steps) expect(step.detail.split('(').length, step.title).toBe(step.detail.split(')').length);
  });

  it('docs/resilience.md lists exactly the AWS CLI commands the plan runs', () => {
    // every plan variant: platform DR or not, recovery point known or not, VpcCidr known or not, a vpc tier
    const vpcTier = configWith({ tiers: { ...DR, professional: { isolation: 'vpc', compute: { mode: 'shared' }, disasterRecovery: { region: 'us-west-2', rpoHours: 2, rtoHours: 4 } } }, platformDisasterRecovery: { region: 'us-west-2' } } as never);
    const plans = [
      failoverPlan({ ...base, recoveryPoints: { points: [point(1)] } }),
      failoverPlan({ ...base, recoveryPoints: { points: [] } }),
      failoverPlan({ ...base, vpcCidr: '10.64.4.0/22', config: configWith({ tiers: DR }), recoveryPoints: { error: 'x' } }),
      failoverPlan({ ...base, tier: 'professional', config: vpcTier, recoveryPoints: { points: [point(1)] } }),
    ];
    const used = new Set(plans.flatMap((p) => p.steps.flatMap((s) => s.commands)).flatMap((c) => [...c.matchAll(/(?:^|[|;] *|do )aws ([a-z0-9-]+) (wait [a-z-]+|[a-z0-9-]+)/g)].map((m) => `${m[1]} ${m[2]}`)));
    const page = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'resilience.md'), 'utf8');
    const list = /Every AWS CLI command the plan prints \(AWS CLI v2 reference\):\n((?:- .*\n(?: {2}.*\n)*)+)/.exec(page);
    expect(list, 'docs/resilience.md: the list after "Every AWS CLI command the plan prints"').not.toBeNull();
    const listed = new Set(list![1].split(/\n- /).flatMap((line) => {
      const items = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      const service = items[0].split(' ')[0];
      return items.map((item, i) => (i === 0 ? item : `${service} ${item}`));
    }));
    expect([...listed].sort()).toEqual([...used].sort());
  });

  it('refuses a tenant whose tier has no DR and that has no DR stack', () => {
    expect(() => failoverPlan({ ...base, tier: 'professional', recoveryPoints: { points: [] } })).toThrow(/tier professional has disasterRecovery none and no DR stack is recorded: .* nothing to fail over to/);
    expect(() => failoverPlan({ ...base, tier: 'professional', offline: false, recoveryPoints: { points: [] } })).toThrow(/no DR stack is recorded/);
  });

  // A --config without the tenant's tier (another platform's config) said "its data lives in <that config's
  // homeRegion> only", a region that need not be the tenant's.
  it('refuses a tenant whose tier is not one of --config\'s and that has no DR stack, naming the config\'s tiers, not a region', () => {
    const refusal = (() => { try { failoverPlan({ ...base, tier: 'gold', offline: false, recoveryPoints: { points: [] } }); } catch (e) { return (e as Error).message; } return ''; })();
    expect(refusal).toBe(`tenant acme: its tier gold (the registry's) is not a tier of --config (${Object.keys(base.config.tiers).join(', ')}), and no DR stack is recorded: pass the config the platform was deployed with`);
  });

  // Session 44's walk-through: `failover-plan globex --config <a config without tier gold>` for a tenant with a DR stack
  // printed the plan as for a tier that lost DR (RPO n/a, exit 0), its step 5 synthesizing from "a copy of this config with
  // tiers.gold.disasterRecovery set", a new tier missing every other section, which synth refuses.
  it('refuses a tenant with a DR stack whose tier is not one of --config\'s, naming the config\'s tiers and step 5', () => {
    const refusal = (() => { try { failoverPlan({ ...base, tier: 'gold', offline: false, disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString() }, recoveryPoints: { points: [point(1)] } }); } catch (e) { return (e as Error).message; } return ''; })();
    expect(refusal).toBe(`tenant acme: its tier gold (the registry's) is not a tier of --config (${Object.keys(base.config.tiers).join(', ')}): step 5 synthesizes tier gold's failover blueprint from the config, which needs the tier: pass the config the platform was deployed with (if tier gold was removed from it since, a copy of the config that defines the tier again)`);
  });

  it('offline, a tier without DR: says the registry was not read and to pass --dr-region if the tenant\'s DR stack exists', () => {
    const refusal = (() => { try { failoverPlan({ ...base, tier: 'professional', offline: true, recoveryPoints: { points: [] } }); } catch (e) { return (e as Error).message; } return ''; })();
    expect(refusal).toBe('tenant acme: tier professional has disasterRecovery none in --config, and the registry was not read (--account and --tier), so whether the tenant has a DR stack is unknown: '
      + 'if its DR stack exists (deployed while its tier had DR), pass --dr-region <its region> (the registry record\'s disasterRecovery.region); if not, its data lives in us-east-1 only and there is nothing to fail over to');
    expect(refusal).not.toContain('no DR stack is recorded');
    // with --dr-region it is planned
    expect(failoverPlan({ ...base, tier: 'professional', offline: true, drRegion: 'us-west-2', recoveryPoints: { points: [] } }).drRegion).toBe('us-west-2');
  });

  it('offline, the DR stack\'s status and the latest restore test are unknown (registry not read); read without a DR record, not recorded', () => {
    const lines = failoverPlanLines(failoverPlan({ ...base, offline: true, recoveryPoints: { points: [] } }));
    expect(lines).toContain('  DR stack tessera-acme-dr in us-west-2, status UNKNOWN (registry not read); bucket tessera-acme-dr-210987654321-us-west-2;');
    expect(lines).toContain('  latest restore test: unknown (registry not read)\n');
    expect(lines).not.toContain('none recorded');
    expect(lines).not.toContain('))');
    const read = failoverPlan({ ...base, offline: false, status: 'ACTIVE', recoveryPoints: { points: [] } });
    expect(read.drStack.status).toBe('NOT RECORDED (none in the registry record)');
    expect(failoverPlanLines(read)).toContain('  latest restore test: none recorded\n');
  });
});

describe('failoverPlan: tenants it must not rebuild, recovery points it must not restore, the region the data is in (hops)', () => {
  const dr = (status: 'ACTIVE' | 'RETAINED' | 'REMOVED', region = 'us-west-2') => ({ region, stackName: 'tessera-acme-dr', status, updatedAt: now.toISOString() });

  it('refuses an OFFBOARDED or OFFBOARDING tenant, or one whose DR stack its offboarding REMOVED (exit 1): the plan would rebuild it from the vault\'s remaining copies', () => {
    for (const [status, drStatus] of [['OFFBOARDED', 'REMOVED'], ['OFFBOARDING', 'ACTIVE']] as const) {
      let error: unknown;
      try {
        failoverPlan({ ...base, status, disasterRecovery: dr(drStatus), recoveryPoints: { points: [point(1)] } });
      } catch (e) {
        error = e;
      }
      expect(error, status).toMatchObject({ exitCode: 1, message: expect.stringMatching(/^tenant acme is OFFBOARD(ED|ING): a failover would rebuild, from the DR vault's remaining recovery points, a tenant its offboarding deletes on purpose/) });
    }
    // an ACTIVE or SUSPENDED tenant still gets its plan
    expect(failoverPlan({ ...base, status: 'SUSPENDED', disasterRecovery: dr('ACTIVE'), recoveryPoints: { points: [point(1)] } }).drRegion).toBe('us-west-2');
  });

  it('refuses a tenant whose DR stack a failed create left REMOVED (exit 1), saying so: no offboarding removed it (the message said one did, for a FAILED onboarding or a failed move to a DR tier)', () => {
    // Record failure records a DR stack REMOVED that never came up (record-failure.ts removeDeadDrStack): the tenant is FAILED
    // (onboarding) or still ACTIVE on its tier (a change to a DR tier); only an offboarding removes one that came up.
    for (const status of ['FAILED', 'ACTIVE'] as const) {
      let error: unknown;
      try {
        failoverPlan({ ...base, status, disasterRecovery: dr('REMOVED'), recoveryPoints: { points: [point(1)] } });
      } catch (e) {
        error = e;
      }
      expect(error, status).toMatchObject({ exitCode: 1 });
      const message = (error as Error).message;
      expect(message, status).not.toMatch(/offboarding/);
      expect(message, status).toContain(`tenant acme (${status}): its DR stack tessera-acme-dr in us-west-2 is recorded REMOVED: its create failed and the failure removed it (nothing of it was left in us-west-2), so there is no DR copy to fail over to`);
    }
  });

  it('restores only a COMPLETED recovery point: with none, it names no point (it used to offer a copy still being made)', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(0.5, 'RDS', 'CREATING'), point(1, 'RDS', 'PARTIAL')] } });
    const restore = plan.steps[5].commands.find((c) => c.includes('start-restore-job'))!;
    expect(restore).toContain('--recovery-point-arn <newest COMPLETED recovery point ARN, from the list above>');
    expect(plan.steps[0].commands.join('\n')).not.toContain('recovery-point:RDS-');
    expect(failoverPlanLines(plan)).toContain('  newest recovery points (none COMPLETED: the database cannot be restored from any of these yet):');
  });

  it('shows the COMPLETED point it restores from even when newer ones that are not COMPLETED fill the list', () => {
    const newer = Array.from({ length: PLAN_RECOVERY_POINTS }, (_, i) => point(0.1 * (i + 1), 'RDS', 'CREATING'));
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [...newer, point(3)] } });
    expect(plan.recoveryPoints.map((p) => p.arn)).toEqual([...newer.map((p) => p.arn), point(3).arn]);
    expect(plan.steps[5].commands.find((c) => c.includes('start-restore-job'))).toContain(`--recovery-point-arn ${point(3).arn}`);
  });

  it('keeps an old recovery point at least 14 days from now (DeleteAfterDays counts from its creation: 35 would leave a 30-day-old point 5 days)', () => {
    const old = failoverPlan({ ...base, recoveryPoints: { points: [point(30 * 24)] } });
    expect(old.steps[0].commands).toContain(`aws backup update-recovery-point-lifecycle --region us-west-2 --backup-vault-name tessera-acme-dr --recovery-point-arn ${point(30 * 24).arn} --lifecycle DeleteAfterDays=44`);
    const fresh = failoverPlan({ ...base, recoveryPoints: { points: [point(1)] } });
    expect(fresh.steps[0].commands.at(-1)).toMatch(/DeleteAfterDays=35$/);
  });

  it('follows the registry\'s DR region when the config moved the tier\'s DR region since: the tenant\'s stack and copies stay where they were', () => {
    const plan = failoverPlan({ ...base, disasterRecovery: dr('ACTIVE', 'eu-west-1'), recoveryPoints: { points: [point(1)] } });
    expect(plan).toMatchObject({ drRegion: 'eu-west-1', configDrRegion: 'us-west-2', drVault: 'tessera-acme-dr', rpoHours: 2 });
    const text = failoverPlanLines(plan);
    expect(text).toContain('  the config now gives tier starter the DR region us-west-2, but this tenant\'s DR stack and recovery points are in eu-west-1 (its registry record): the plan fails over to eu-west-1');
    expect(text).toContain('aws backup start-restore-job --region eu-west-1');
    expect(text).not.toMatch(/--region us-west-2 --(stack-name tessera-acme|backup-vault-name tessera-acme-dr)/);
    // the failover blueprint's template rule admits only the tier's DR region: synthesize from a copy giving it the tenant's
    expect(plan.steps[4].commands[0]).toBe('npx cdk synth --quiet -c tessera:configFile=<a copy of this config with tiers.starter.disasterRecovery set to { region: eu-west-1, rpoHours: 2, rtoHours: 4 }>');
  });
});

describe('tessera tenants failover-plan', () => {
  const backup = mockStrict(BackupClient, 'backup', BackupServiceException);
  let out: string[];
  let err: string[];
  let file: string;
  beforeEach(() => {
    backup.reset();
    out = [];
    err = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    file = join(tempDir('failover-'), 'tessera.config.json');
    writeFileSync(file, JSON.stringify({ ...COMPLETE, tiers: DR }));
    process.exitCode = undefined;
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('is registered under tenants with --config, --account, --tier, --role-arn, --vpc-cidr and --dr-region', () => {
    const cmd = tenantsCommand().commands.find((c) => c.name() === 'failover-plan')!;
    expect(cmd.registeredArguments.map((a) => [a.name(), a.required])).toEqual([['id', true]]);
    expect(cmd.options.map((o) => o.long)).toEqual(['--config', '--account', '--tier', '--role-arn', '--vpc-cidr', '--dr-region']);
  });

  it('offline (--account, --tier): lists the DR vault in the DR region and prints the plan as JSON', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand, { BackupVaultName: 'tessera-acme-dr' }).resolves({
      RecoveryPoints: [{ RecoveryPointArn: 'arn:aws:backup:us-west-2:210987654321:recovery-point:a', ResourceType: 'RDS', Status: 'COMPLETED', CreationDate: new Date(Date.now() - 1_800_000) }],
    });
    // WHEN
    const code = await runTesseraProgram(['--json', 'tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter']);
    // THEN
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const plan = JSON.parse(out.join(''));
    expect(plan).toMatchObject({ tenantId: 'acme', drRegion: 'us-west-2', rpoHours: 2, rtoHours: 4, drVault: 'tessera-acme-dr', withinRpo: true, drStack: { status: 'UNKNOWN (registry not read)' } });
    expect(plan.recoveryPoints).toEqual([expect.objectContaining({ arn: 'arn:aws:backup:us-west-2:210987654321:recovery-point:a' })]);
    expect(backup.calls()).toHaveLength(1);
    expect(await (backup.call(0).thisValue as BackupClient).config.region()).toBe('us-west-2');
  });

  it('refuses --account without --tier, a bad id and a tier the config lacks (exit 2, naming the flag)', async () => {
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321'])).toBe(2);
    expect(err.join('')).toMatch(/--account and --tier go together/);
    err.length = 0;
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'Acme!', '--config', file, '--account', '210987654321', '--tier', 'starter'])).toBe(2);
    expect(err.join('')).toMatch(/<id> "Acme!"/);
    err.length = 0;
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'gold'])).toBe(2);
    expect(err.join('')).toMatch(/--tier gold: not a tier/);
    expect(backup.calls()).toHaveLength(0);
  });

  it('--role-arn: assumes the role through STS in the DR region, then lists the vault with its credentials', async () => {
    const sts = mockStrict(STSClient, 'sts', STSServiceException);
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) } });
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [] });
    const arn = 'arn:aws:iam::210987654321:role/ops/TesseraFailover';
    const code = await runTesseraProgram(['--json', 'tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter', '--role-arn', arn]);
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ RoleArn: arn, RoleSessionName: 'tessera-failover-plan' });
    // the regression: an STS client without a region failed with "Region is missing" and printed no plan
    expect(await (sts.call(0).thisValue as STSClient).config.region()).toBe('us-west-2');
    expect((await (backup.call(0).thisValue as BackupClient).config.credentials()).accessKeyId).toBe('AKIAEXAMPLE');
    sts.restore();
  });

  it('--role-arn: an AssumeRole refusal still prints the plan, with the refusal as the recovery points\' error', async () => {
    const sts = mockStrict(STSClient, 'sts', STSServiceException);
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
    const arn = 'arn:aws:iam::210987654321:role/TesseraFailover';
    const code = await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter', '--role-arn', arn]);
    expect(code).toBe(0);
    expect(out.join('')).toContain(`recovery points: not listed (assuming --role-arn ${arn} in us-west-2: AccessDenied: User is not authorized to perform: sts:AssumeRole)`);
    expect(out.join('')).toMatch(/11\. Record the recovery/);
    expect(backup.calls()).toHaveLength(0);
    sts.restore();
  });

  it('refuses a malformed --role-arn and a --vpc-cidr the tier\'s blueprint would refuse (exit 2, naming the flag and value), before any AWS call', async () => {
    const offline = ['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter'];
    for (const bad of ['TesseraFailover', 'arn:aws:iam::2109876543:role/x', 'arn:aws:iam::210987654321:user/x', 'arn:aws:sts::210987654321:role/x']) {
      err.length = 0;
      expect(await runTesseraProgram([...offline, '--role-arn', bad])).toBe(2);
      expect(err.join('')).toContain(`--role-arn ${bad}: expected an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/<name>`);
    }
    const cidrs: Array<[string, RegExp]> = [
      ['10.64.4.1/22', /--vpc-cidr 10\.64\.4\.1\/22: must be an IPv4 network in CIDR form/],
      ['10.64.0.0/16', /--vpc-cidr 10\.64\.0\.0\/16: must be a \/22 \(the tier's network\.tenantVpcPrefixLength/],
      ['10.200.0.0/22', /--vpc-cidr 10\.200\.0\.0\/22: not inside the tier's network\.tenantCidrPool 10\.64\.0\.0\/12/],
      // both problems in one message
      ['10.200.0.0/16', /--vpc-cidr 10\.200\.0\.0\/16: must be a \/22 inside the tier's network\.tenantCidrPool 10\.64\.0\.0\/12 \(a \/16 outside it\)/],
    ];
    for (const [bad, message] of cidrs) {
      err.length = 0;
      expect(await runTesseraProgram([...offline, '--vpc-cidr', bad])).toBe(2);
      expect(err.join('')).toMatch(message);
    }
    expect(backup.calls()).toHaveLength(0);
    // a good one reaches steps 5 and 8
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [] });
    expect(await runTesseraProgram(['--json', ...offline, '--vpc-cidr', '10.64.4.0/22'])).toBe(0);
    expect(JSON.parse(out.join('')).steps[7].commands[0]).toContain('VpcCidr=10.64.4.0/22 ');
  });

  it('refuses a config that keeps the embedded default\'s placeholders (exit 2, as synth does), and needs --config', async () => {
    // GIVEN a config file that sets only the tiers: the platform account is still the example 222222222222
    writeFileSync(file, JSON.stringify({ tiers: DR }));
    // WHEN a plan is asked for, THEN it is refused before any AWS call, naming each placeholder
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter'])).toBe(2);
    expect(out.join('')).toBe('');
    expect(err.join('')).toMatch(/placeholders remain, so it cannot be deployed/);
    expect(err.join('')).toMatch(/platformAccountId = "222222222222"/);
    expect(backup.calls()).toHaveLength(0);
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--account', '210987654321', '--tier', 'starter'])).toBe(2);
    expect(err.join('')).toMatch(/needs the option --config <file>/);
  });

  it('without an admin API URL, says to pass --account and --tier', async () => {
    const saved = process.env.TESSERA_API_URL;
    delete process.env.TESSERA_API_URL;
    try {
      expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file])).toBe(2);
    } finally {
      if (saved !== undefined) process.env.TESSERA_API_URL = saved;
    }
    expect(err.join('')).toMatch(/no admin API URL[^\n]*\n\s+or pass --account and --tier/);
  });

  it('prints the plan with a note when the DR vault cannot be listed', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const code = await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter']);
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/failover plan for tenant acme \(tier starter, account 210987654321\): us-east-1 -> us-west-2/);
    // (lcleft2: which call, which vault, which region and account)
    expect(text).toContain('recovery points: not listed (ListRecoveryPointsByBackupVault of vault tessera-acme-dr in us-west-2 (account 210987654321): AccessDeniedException: User is not authorized)');
    expect(text).toMatch(/6\. Restore the tenant database from the DR vault/);
  });

  // lcleft2: against moto (no ListRecoveryPointsByBackupVault: a 404 HTML page) the reason was the SDK's parser message,
  // `SyntaxError: Unexpected token '<', "<!doctype "... is not valid JSON  Deserialization error: to see the raw response,
  // inspect the hidden field {error}.$response on this object.`
  it('names the call, the vault, the region and the HTTP status when the endpoint\'s answer is not AWS Backup\'s (an emulator, a proxy)', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).rejects(Object.assign(new Error('Unexpected token \'<\', "<!doctype "... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { name: 'SyntaxError', $metadata: { httpStatusCode: 404 } }));
    const code = await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter']);
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/recovery points: not listed \(ListRecoveryPointsByBackupVault of vault tessera-acme-dr in us-west-2 \(account 210987654321\): the endpoint( \S+ \(AWS_ENDPOINT_URL(_BACKUP)?\))? answered HTTP 404 with a body that is not AWS Backup's JSON: not AWS Backup's answer \(an emulator without this call, such as moto, an endpoint override or a proxy\)/);
    expect(text).not.toMatch(/Deserialization error|\$response/);
  });

  // lcleft2: offline, the plan knew only the config's region; a tenant whose DR stack stayed in the tier's former DR region
  // got a plan (and a vault listing) for a region holding none of its data, without a word.
  it('offline: --dr-region gives the region of the tenant\'s DR stack (listed there, named as such); without it the plan says the region is the config\'s, unchecked', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [] });
    // (eu-west-1, the tier's DR region before the config moved it to us-west-2, is still an allowed region)
    const allowed = join(tempDir('failover-'), 'tessera.config.json');
    writeFileSync(allowed, JSON.stringify({ ...COMPLETE, allowedRegions: ['us-east-1', 'us-west-2', 'eu-west-1'], tiers: DR }));
    const offline = file;
    file = allowed;
    expect(await runTesseraProgram(['--json', 'tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter', '--dr-region', 'eu-west-1'])).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ drRegion: 'eu-west-1', configDrRegion: 'us-west-2', drRegionFrom: '--dr-region' });
    expect(await (backup.call(0).thisValue as BackupClient).config.region()).toBe('eu-west-1');
    out.length = 0;
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter', '--dr-region', 'eu-west-1'])).toBe(0);
    expect(out.join('')).toContain('the config now gives tier starter the DR region us-west-2, but this tenant\'s DR stack and recovery points are in eu-west-1 (--dr-region): the plan fails over to eu-west-1');
    out.length = 0;
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter'])).toBe(0);
    expect(out.join('')).toContain('DR region us-west-2: tier starter\'s in the config; the registry was not read, so where this tenant\'s DR stack is was not checked: if the tier\'s DR region changed after its DR stack was deployed, pass --dr-region <that region>');
    // refused: without --account (the registry names it), not a region, the home region
    for (const [args, says] of [
      [['--dr-region', 'eu-west-1'], /--dr-region goes with --account and --tier/],
      [['--account', '210987654321', '--tier', 'starter', '--dr-region', 'Europe'], /--dr-region Europe: expected an AWS region name/],
      [['--account', '210987654321', '--tier', 'starter', '--dr-region', 'us-east-1'], /--dr-region us-east-1: is the config's homeRegion/],
    ] as const) {
      err.length = 0;
      expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, ...args])).toBe(2);
      expect(err.join('')).toMatch(says);
    }
    // hlc5: a region outside allowedRegions got a plan (exit 0) that could not be followed: the region guardrail denies the
    // listing and every step there, and step 5's synth refuses the config copy giving the tier that DR region
    file = offline;
    for (const [args, says] of [
      [['--account', '210987654321', '--tier', 'starter', '--dr-region', 'eu-west-1'], /--dr-region eu-west-1: not in the config's allowedRegions \(us-east-1, us-west-2\): the region guardrail denies it .*add eu-west-1 to allowedRegions in --config \(and deploy TesseraOrganization\) first/],
    ] as const) {
      err.length = 0;
      expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, ...args])).toBe(2);
      expect(err.join('')).toMatch(says);
    }
  });
  it('lists the DR vault of the recorded region, and keeps the newest COMPLETED point when the newest few are not (hops)', async () => {
    const creating = Array.from({ length: 6 }, (_, i) => ({ RecoveryPointArn: `arn:aws:backup:eu-west-1:210987654321:recovery-point:c${i}`, ResourceType: 'RDS', Status: 'CREATING' as const, CreationDate: new Date(Date.now() - (i + 1) * 60_000) }));
    const completed = { RecoveryPointArn: 'arn:aws:backup:eu-west-1:210987654321:recovery-point:done', ResourceType: 'RDS', Status: 'COMPLETED' as const, CreationDate: new Date(Date.now() - 3_600_000) };
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [...creating, completed] });
    const regions: string[] = [];
    const { tenantsFailoverCommand } = await import('../../../lib/cli/tenants-failover-command.js');
    const io = { backup: async (region: string) => (regions.push(region), new BackupClient({ region })), assumeRole: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), now: () => new Date() };
    const record = { tenantId: 'acme', tier: 'starter', status: 'ACTIVE', accountId: '210987654321', disasterRecovery: { region: 'eu-west-1', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString() } };
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(record), { status: 200 })));
    const env = { TESSERA_API_URL: process.env.TESSERA_API_URL, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY, AWS_REGION: process.env.AWS_REGION };
    Object.assign(process.env, { TESSERA_API_URL: 'https://admin.example.com/prod', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' });
    try {
      const { Command } = await import('commander');
      const program = new Command().option('--json').option('--api-url <url>').option('--region <region>').exitOverride();
      program.addCommand(tenantsFailoverCommand(io));
      await program.parseAsync(['node', 'tessera', '--json', 'failover-plan', 'acme', '--config', file]);
    } finally {
      vi.unstubAllGlobals();
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    expect(regions).toEqual(['eu-west-1']);
    const plan = JSON.parse(out.join(''));
    expect(plan).toMatchObject({ drRegion: 'eu-west-1', configDrRegion: 'us-west-2', newestRecoveryPointAgeHours: 1, withinRpo: true });
    expect(plan.recoveryPoints.map((p: { arn: string }) => p.arn.split(':').at(-1))).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'done']);
  });

  it('refuses an OFFBOARDING tenant read from the registry before listing its vault (exit 1) (hops)', async () => {
    const { tenantsFailoverCommand } = await import('../../../lib/cli/tenants-failover-command.js');
    const listed: string[] = [];
    const io = { backup: async (region: string) => (listed.push(region), new BackupClient({ region })), assumeRole: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), now: () => new Date() };
    const record = { tenantId: 'acme', tier: 'starter', status: 'OFFBOARDING', accountId: '210987654321', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString() } };
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(record), { status: 200 })));
    const env = { TESSERA_API_URL: process.env.TESSERA_API_URL, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY, AWS_REGION: process.env.AWS_REGION };
    Object.assign(process.env, { TESSERA_API_URL: 'https://admin.example.com/prod', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' });
    let error: unknown;
    try {
      const { Command } = await import('commander');
      const program = new Command().option('--json').option('--api-url <url>').option('--region <region>').exitOverride();
      program.addCommand(tenantsFailoverCommand(io));
      await program.parseAsync(['node', 'tessera', 'failover-plan', 'acme', '--config', file]);
    } catch (e) {
      error = e;
    } finally {
      vi.unstubAllGlobals();
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    expect(error).toMatchObject({ exitCode: 1, message: expect.stringMatching(/^tenant acme is OFFBOARDING: a failover would rebuild/) });
    expect(listed).toEqual([]);
    expect(out.join('')).toBe('');
  });

  it('a PROVISIONING (with an account) or FAILED tenant: the plan is printed with a warning line first (it may never have served; its DR stack DEPLOYING says only that a deploy started), exit code unchanged; an ACTIVE one has none (hdr2)', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [] });
    const { tenantsFailoverCommand } = await import('../../../lib/cli/tenants-failover-command.js');
    const io = { backup: async (region: string) => new BackupClient({ region }), assumeRole: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), now: () => new Date() };
    const env = { TESSERA_API_URL: process.env.TESSERA_API_URL, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY, AWS_REGION: process.env.AWS_REGION };
    Object.assign(process.env, { TESSERA_API_URL: 'https://admin.example.com/prod', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' });
    try {
      for (const status of ['PROVISIONING', 'FAILED', 'ACTIVE'] as const) {
        out.length = 0;
        process.exitCode = undefined;
        const record = { tenantId: 'acme', tier: 'starter', status, accountId: '210987654321', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: status === 'ACTIVE' ? 'ACTIVE' : 'DEPLOYING', updatedAt: now.toISOString() } };
        vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(record), { status: 200 })));
        const { Command } = await import('commander');
        const program = new Command().option('--json').option('--api-url <url>').option('--region <region>').exitOverride();
        program.addCommand(tenantsFailoverCommand(io));
        await program.parseAsync(['node', 'tessera', 'failover-plan', 'acme', '--config', file]);
        const [first, second] = out.join('').split('\n');
        expect(process.exitCode, status).toBeUndefined();
        if (status === 'ACTIVE') {
          expect(first).toMatch(/^failover plan for tenant acme /);
          continue;
        }
        expect(first, status).toMatch(new RegExp(`^WARNING: tenant acme is ${status}: .*its DR stack is recorded DEPLOYING \\(a deploy started; whether it came up, and whether any copy reached the DR vault, is not known from the record\\)\\. Check that there is data to recover`));
        expect(first).toContain(status === 'PROVISIONING' ? 'its onboarding is still running: it has not served yet' : 'it may never have served (a failed onboarding), or may have served before the failure');
        expect(second).toMatch(/^failover plan for tenant acme /);
        vi.unstubAllGlobals();
      }
    } finally {
      vi.unstubAllGlobals();
      process.exitCode = undefined;
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });
});
