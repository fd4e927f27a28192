import { describe, expect, it } from 'vitest';
import { tenantDetails, tenantListRows } from '../../../lib/cli/format.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';

/** `tessera tenants show`'s text. Found by the hostile hadm (s15): the lease, the operation every other request is refused for, was not shown. */
const record = (extra: Partial<TenantRecord> = {}): TenantRecord => ({
  tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001',
  status: 'UPDATING', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T06:00:00.000Z', stackOutputs: {}, executions: [], ...extra,
} as TenantRecord);

describe('tenantDetails', () => {
  // Found by a platform team scripting against the CLI (session 46): an account tenant's `alternate contacts` and `S3 Block Public
  // Access` lines (and `EBS encryption by default`) printed their value one space after the label, out of the 12-column
  // alignment of every other line.
  it('lays out every labelled value in one column, two spaces after the longest label; 12 when every label is shorter', () => {
    const account = tenantDetails(record({
      status: 'ACTIVE', isolation: 'account', accountId: '444444444444',
      alternateContacts: { setAt: '2026-12-07T00:00:00.000Z', types: ['SECURITY'] },
      s3PublicAccessBlock: { setAt: '2026-12-07T00:00:00.000Z', region: 'us-east-1', configuration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } },
      defaultVpcs: { checkedAt: '2026-12-07T00:00:00.000Z', regions: [{ region: 'us-east-1', state: 'KEPT', vpcId: 'vpc-2', reason: 'in use' }] },
      ebsEncryption: { checkedAt: '2026-12-07T00:00:00.000Z', regions: [{ region: 'us-east-1', state: 'ENABLED' }] },
      lease: { kind: 'change', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:c-1', requestId: 'k1', acquiredAt: '2026-12-07T00:01:00.000Z', previousStatus: 'ACTIVE' },
    }));
    const labels = ['tenant', 'status', 'tier', 'account', 'vpc', 'blueprint', 'admin', 'tags', 'created', 'policy', 'default VPC', 'EBS encryption by default', 'S3 Block Public Access', 'alternate contacts', 'operation'];
    const lines = account.split('\n').filter((l) => !l.startsWith(' '));
    expect(lines.map((l) => labels.find((label) => l.startsWith(`${label} `)))).toEqual(labels);
    // Each value starts at column 27: 'EBS encryption by default' (25 characters) and two spaces.
    for (const [i, l] of lines.entries()) expect(l.slice(labels[i]!.length).match(/^ +/)![0].length + labels[i]!.length, l).toBe(27);
    expect(lines).toContain(`${'alternate contacts'.padEnd(27)}SECURITY set (2026-12-07T00:00:00.000Z)`);
    expect(lines).toContain(`${'S3 Block Public Access'.padEnd(27)}BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets on (account-wide, set through us-east-1 at 2026-12-07T00:00:00.000Z)`);
    // Its region detail stays indented under its line.
    expect(account).toContain('\n  us-east-1 KEPT vpc-2: in use\n');
    // A tenant without those lines keeps the 12 columns of every transcript.
    expect(tenantDetails(record()).split('\n').slice(0, 2)).toEqual(['tenant      acme (Acme)', 'status      UPDATING']);
  });

  it('names the operation holding the tenant: kind, since, request and execution', () => {
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-mx76aems-8b89be94';
    const text = tenantDetails(record({ lease: { kind: 'change', executionArn, requestId: 'k1', acquiredAt: '2026-12-03T06:01:00.000Z', previousStatus: 'ACTIVE' } }));
    expect(text).toContain(`operation   change since 2026-12-03T06:01:00.000Z (request k1; execution ${executionArn})`);
  });

  it('prints the last execution refused before it took the lease (lastRefusal: a StartExecution from elsewhere than the admin API)', () => {
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:console-1';
    const text = tenantDetails(record({ status: 'ACTIVE', lastRefusal: { kind: 'offboard', requestId: 'console-1', executionArn, step: 'Check rebuilt stack', reason: 'TenantRebuiltInDrRegion: rebuilt\nin us-west-2', at: '2026-12-05T00:10:00.000Z' } }));
    expect(text).toContain(`refused     offboard at 2026-12-05T00:10:00.000Z (request console-1; execution ${executionArn}) at "Check rebuilt stack": TenantRebuiltInDrRegion: rebuilt\\nin us-west-2 (nothing changed)`);
    expect(tenantDetails(record({ status: 'ACTIVE' }))).not.toContain('refused');
  });

  // Found by the day-2 walk-through (s18): after a tier change and a version change, the history read `change   SUCCEEDED`
  // twice, though each entry records what was asked and its request id (the key `--request-id` sends again).
  it('prints what each change asked and its request id; other entries as before', () => {
    const text = tenantDetails(record({ status: 'ACTIVE', executions: [
      { kind: 'onboard', requestId: 'req-acme-0001', startedAt: '2026-12-03T06:00:00.000Z', status: 'SUCCEEDED' },
      { kind: 'change', requestId: 'cli-95bb', startedAt: '2026-12-03T06:01:00.000Z', status: 'SUCCEEDED', change: { tier: 'professional' } },
      { kind: 'change', requestId: 'ops-77', startedAt: '2026-12-03T06:02:00.000Z', status: 'FAILED', failedStep: 'Deploy blueprint', reason: 'ChangeRefused: …',
        change: { blueprintVersion: '2.0.0', allowReplacement: { reason: 'cache moves to Valkey (OPS-77)' } } },
      { kind: 'change', requestId: 'cli-07952061', startedAt: '2026-12-03T06:03:00.000Z', status: 'SUCCEEDED', change: { repair: true } },
    ] }));
    expect(text.split('\n').slice(-4)).toEqual([
      '  2026-12-03T06:00:00.000Z  onboard  SUCCEEDED',
      '  2026-12-03T06:01:00.000Z  change   SUCCEEDED (tier professional; request cli-95bb)',
      '  2026-12-03T06:02:00.000Z  change   FAILED (blueprint 2.0.0, allow-replacement "cache moves to Valkey (OPS-77)"; request ops-77) at "Deploy blueprint": ChangeRefused: …',
      '  2026-12-03T06:03:00.000Z  change   SUCCEEDED (repair; request cli-07952061)',
    ]);
  });

  // Found by a new user's trial (session 45): a tags-only change (tessera tenants update --tag/--untag, PATCH tags, apply's update
  // tags) was printed `change   SUCCEEDED (; request …)`, what it asked left out.
  it('prints the tags a change asked for (all of them; {} for none left), alone or with a tier', () => {
    const text = tenantDetails(record({ status: 'ACTIVE', executions: [
      { kind: 'change', requestId: 'cli-fa05', startedAt: '2026-12-07T04:05:05.000Z', status: 'SUCCEEDED', change: { tags: { CostCenter: '4712' } } },
      { kind: 'change', requestId: 'apply-acme-9f8c', startedAt: '2026-12-07T04:06:00.000Z', status: 'SUCCEEDED', change: { tier: 'professional', tags: { CostCenter: '4713', Team: 'ml' } } },
      { kind: 'change', requestId: 'cli-07aa', startedAt: '2026-12-07T04:07:00.000Z', status: 'SUCCEEDED', change: { tags: {} } },
    ] }));
    expect(text.split('\n').slice(-3)).toEqual([
      '  2026-12-07T04:05:05.000Z  change   SUCCEEDED (tags {"CostCenter":"4712"}; request cli-fa05)',
      '  2026-12-07T04:06:00.000Z  change   SUCCEEDED (tier professional, tags {"CostCenter":"4713","Team":"ml"}; request apply-acme-9f8c)',
      '  2026-12-07T04:07:00.000Z  change   SUCCEEDED (tags {}; request cli-07aa)',
    ]);
  });

  // A change whose request the history keeps as its digest only (older ones, or tags too large to keep: lib/change-digest.ts)
  // was printed with nothing of what it asked; it now prints the digest's summary and its start.
  it('prints a digested change\'s summary: the tier, version and repair asked, how many tags, allow-replacement, the start of its SHA-256', () => {
    const sha256 = 'ab'.repeat(32);
    const text = tenantDetails(record({ status: 'ACTIVE', executions: [
      { kind: 'change', requestId: 'cli-0b1c', startedAt: '2026-12-07T05:00:00.000Z', status: 'SUCCEEDED', changeDigest: { sha256, tier: 'professional', tagCount: 40, allowReplacement: true } },
      { kind: 'change', requestId: 'cli-0b1d', startedAt: '2026-12-07T05:01:00.000Z', status: 'SUCCEEDED', changeDigest: { sha256, tagCount: 1 } },
    ] }));
    expect(text.split('\n').slice(-2)).toEqual([
      '  2026-12-07T05:00:00.000Z  change   SUCCEEDED (tier professional, 40 tags, allow-replacement (sha256 abababababab…); request cli-0b1c)',
      '  2026-12-07T05:01:00.000Z  change   SUCCEEDED (1 tag (sha256 abababababab…); request cli-0b1d)',
    ]);
  });

  // Found by the platform engineer's trial (s32): only the last policy write was kept, and tenants show said nothing of it.
  it('prints the gateway policy\'s version and last write in one line, and each policy write of the history with its version and changed keys', () => {
    expect(tenantDetails(record({ status: 'ACTIVE' }))).toMatch(/^policy {6}v0 \(as onboarded, never written\)$/m);
    const actor = 'admin:arn:aws:sts::111111111111:assumed-role/PlatformAdmin/alice';
    const text = tenantDetails(record({ status: 'ACTIVE',
      gatewayChange: { version: 2, at: '2026-12-05T10:00:00.000Z', actor, method: 'PATCH', reason: 'CHG-2 fallbacks' },
      executions: [
        { kind: 'gateway-policy', requestId: 'gateway-policy-v1', startedAt: '2026-12-05T09:00:00.000Z', endedAt: '2026-12-05T09:00:00.000Z', status: 'SUCCEEDED', actor, policyChange: { version: 1, method: 'PUT', paths: ['guardrails.redactResponses', 'monthlyTokenBudget'] } },
        { kind: 'gateway-policy', requestId: 'gateway-policy-v2', startedAt: '2026-12-05T10:00:00.000Z', endedAt: '2026-12-05T10:00:00.000Z', status: 'SUCCEEDED', actor, requestReason: 'CHG-2 fallbacks', policyChange: { version: 2, method: 'PATCH', paths: ['fallbacks'] } },
      ] }));
    expect(text).toMatch(new RegExp(`^policy {6}v2, PATCH 2026-12-05T10:00:00\\.000Z by ${actor.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} reason "CHG-2 fallbacks"$`, 'm'));
    expect(text.split('\n').slice(-2)).toEqual([
      `  2026-12-05T09:00:00.000Z  gateway  v1 PUT guardrails.redactResponses, monthlyTokenBudget by ${actor}`,
      `  2026-12-05T10:00:00.000Z  gateway  v2 PATCH fallbacks by ${actor} reason "CHG-2 fallbacks"`,
    ]);
  });

  // Found by a new user's trial (s40h): a tier change refused at Deploy blueprint left fabrikam ACTIVE, and show's status
  // line read `ACTIVE — step: Deploy blueprint`, list's CURRENTSTEP `Deploy blueprint`, as if the change still ran.
  it('says a step the last operation failed at as a failure, and a running operation\'s step as its step', () => {
    const failure = { step: 'Deploy blueprint', reason: 'InvalidRequest: …', at: '2026-12-06T11:36:32.000Z', kind: 'change' as const };
    const failed = record({ status: 'ACTIVE', currentStep: 'Deploy blueprint', failure });
    expect(tenantDetails(failed)).toMatch(/^status {6}ACTIVE — change failed at Deploy blueprint$/m);
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-2';
    const running = record({ status: 'UPDATING', currentStep: 'Deploy blueprint', failure, lease: { kind: 'change', executionArn, requestId: 'k2', acquiredAt: '2026-12-06T11:40:00.000Z', previousStatus: 'ACTIVE' } });
    expect(tenantDetails(running)).toMatch(/^status {6}UPDATING — step: Deploy blueprint$/m);
    expect(tenantListRows([failed, running, record({ status: 'ACTIVE' })]).map((t) => t.currentStep)).toEqual(['change failed at Deploy blueprint', 'Deploy blueprint', undefined]);
  });

  // The recorded reason is clipped to 2,000 characters, so a failure naming 25 left-behind resources lost its tail, `and 775
  // more not listed here`; show printed only the reason, and leftBehindOmitted (nor leftBehind) appeared nowhere in its text.
  it('says how many resources a failure left behind, how many the record names and how many more there were', () => {
    const leftBehind = Array.from({ length: 25 }, (_, i) => ({ stack: 'tessera-acme', logicalId: `Logs${i}`, type: 'AWS::Logs::LogGroup', physicalId: `/tessera/acme/${i}`, status: 'DELETE_SKIPPED' as const }));
    const reason = `StackFailed: stack tessera-acme is ROLLBACK_COMPLETE; left behind: Logs0 (AWS::Logs::LogGroup) /tessera/acme/0 DELETE_SKIPPED … (9000 characters; the rest is in the execution's history)`;
    const many = tenantDetails(record({ status: 'FAILED', failure: { step: 'Deploy blueprint', reason, at: '2026-12-07T10:00:00.000Z', kind: 'onboard', leftBehind, leftBehindOmitted: 775 } }));
    expect(many).toMatch(/^left behind {2}800 resources: the record names the first 25 \(tessera tenants show acme --json: failure\.leftBehind\), the stack's events each of the 775 more$/m);
    const few = tenantDetails(record({ status: 'FAILED', failure: { step: 'Deploy blueprint', reason, at: '2026-12-07T10:00:00.000Z', kind: 'onboard', leftBehind: leftBehind.slice(0, 2) } }));
    expect(few).toMatch(/^left behind {2}2 resources \(tessera tenants show acme --json: failure\.leftBehind\)$/m);
    expect(tenantDetails(record({ status: 'FAILED', failure: { step: 'Deploy blueprint', reason, at: '2026-12-07T10:00:00.000Z', kind: 'onboard' } }))).not.toMatch(/^left behind/m);
  });

  it('prints no operation line for a tenant no operation holds', () => {
    expect(tenantDetails(record({ status: 'ACTIVE' }))).not.toMatch(/^operation/m);
  });
});

// Found by a platform engineer trying the README (s22): the tenant's DR stack was only in --json.
describe('tenantDetails: the DR stack', () => {
  it('prints its status, region, stack and what it was deployed with', () => {
    const text = tenantDetails(record({ status: 'ACTIVE', disasterRecovery: {
      region: 'us-west-2', stackName: 'tessera-tenant-acme-dr', status: 'ACTIVE', updatedAt: '2026-12-03T06:00:00.000Z',
      deployedWith: { tier: 'professional', blueprintVersion: '1.4.0' },
    } }));
    expect(text).toMatch(/^dr {10}ACTIVE in us-west-2 \(stack tessera-tenant-acme-dr\), deployed with tier professional blueprint 1\.4\.0$/m);
  });

  it('prints a failed rollback: since when, what was attempted and the reason', () => {
    const text = tenantDetails(record({ status: 'ACTIVE', disasterRecovery: {
      region: 'us-west-2', stackName: 'tessera-tenant-acme-dr', status: 'ACTIVE', updatedAt: '2026-12-03T06:00:00.000Z',
      updateRollbackFailed: { at: '2026-12-03T07:00:00.000Z', reason: 'DrKey: rollback failed; continue-update-rollback', attempted: { tier: 'enterprise', blueprintVersion: '1.5.0' } },
    } }));
    expect(text).toMatch(/^dr {10}ACTIVE in us-west-2 \(stack tessera-tenant-acme-dr\)$/m);
    expect(text).toContain('  UPDATE_ROLLBACK_FAILED since 2026-12-03T07:00:00.000Z (attempted tier enterprise blueprint 1.5.0): DrKey: rollback failed; continue-update-rollback');
  });
});

// Account customizations (tiers.<tier>.accountCustomizations): each stack's status was only in --json.
describe('tenantDetails: the account customizations', () => {
  it('prints each customization\'s status, stack, tier and version, and a FAILED one\'s reason', () => {
    const text = tenantDetails(record({ status: 'ACTIVE', tier: 'enterprise', isolation: 'account', customizations: {
      security: { stackName: 'tessera-acme-custom-security', status: 'ACTIVE', tier: 'enterprise', blueprintVersion: '1.4.0', updatedAt: '2026-12-05T06:00:00.000Z' },
      budgets: { stackName: 'tessera-acme-custom-budgets', status: 'FAILED', tier: 'enterprise', blueprintVersion: '1.4.0', updatedAt: '2026-12-05T06:01:00.000Z',
        reason: 'customization budgets: stack tessera-acme-custom-budgets is ROLLBACK_COMPLETE (its create failed): Budget CREATE_FAILED: AccessDenied\nbudgets:ModifyBudget' },
    } }));
    expect(text).toMatch(/^custom {6}security ACTIVE \(stack tessera-acme-custom-security, tier enterprise blueprint 1\.4\.0, 2026-12-05T06:00:00\.000Z\)$/m);
    expect(text).toMatch(/^custom {6}budgets FAILED \(stack tessera-acme-custom-budgets, tier enterprise blueprint 1\.4\.0, 2026-12-05T06:01:00\.000Z\)$/m);
    // printable: the reason's line break shown as \n, the line kept one line
    expect(text).toContain('\n  customization budgets: stack tessera-acme-custom-budgets is ROLLBACK_COMPLETE (its create failed): Budget CREATE_FAILED: AccessDenied\\nbudgets:ModifyBudget');
  });
});

describe('tenantDetails: the stack outputs', () => {
  // Found trying `tessera tenants show` on the local platform: every vpc tenant's `WorkloadSecurityGroupId` (23
  // characters) printed its value one space after the key, out of the column of the other outputs (a key of 24 or more
  // would have touched its value).
  it('lay out their values two spaces after the longest key, in one column; 24 columns when every key is shorter', () => {
    const outputs = (stackOutputs: Record<string, string>) => tenantDetails(record({ stackOutputs })).split('\n').filter((l) => l.startsWith('  '));
    // NamespaceDeployerRoleArnX (25 characters) and two spaces: column 27.
    expect(outputs({ VpcId: 'vpc-1', WorkloadSecurityGroupId: 'sg-1', NamespaceDeployerRoleArnX: 'arn:x' }))
      .toEqual([`  ${'VpcId'.padEnd(27)}vpc-1`, `  ${'WorkloadSecurityGroupId'.padEnd(27)}sg-1`, '  NamespaceDeployerRoleArnX  arn:x']);
    // Every vpc tenant's outputs: WorkloadSecurityGroupId (23) and two spaces, column 25.
    expect(outputs({ VpcId: 'vpc-1', WorkloadSecurityGroupId: 'sg-1' })).toEqual([`  ${'VpcId'.padEnd(25)}vpc-1`, '  WorkloadSecurityGroupId  sg-1']);
    expect(outputs({ VpcId: 'vpc-1', KeyArn: 'arn:k' })).toEqual([`  ${'VpcId'.padEnd(24)}vpc-1`, `  ${'KeyArn'.padEnd(24)}arn:k`]);
  });
});
