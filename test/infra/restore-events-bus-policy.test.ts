import { beforeAll, describe, expect, it } from 'vitest';
import { BACKUP_EVENT_SOURCE, RESTORE_EVENTS_BUS_SID } from '../../constructs/restore-test-recorder.js';
import { RESTORE_JOB_STATE_CHANGE } from '../../constructs/tenant-dr-restore-events.js';
import { TENANT_DLQ_ALARMS_BUS_SID } from '../../constructs/monitoring/tenant-dlq-alarms.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { platformBusPut, TENANT_ACCOUNT } from '../support/platform-bus-put.js';

/**
 * Issue 17, DR: the DR tiers' blueprints forward AWS Backup's `Restore Job State Change` events from
 * the tenant accounts to the platform bus (constructs/tenant-dr-restore-events.ts). EventBridge takes
 * another account's PutEvents only when the bus policy admits it (moto checks no bus policy, so the
 * moto tests cannot show it): without this statement every restore event lands in the tenant's
 * restore-events DLQ and its alarm pages. Here: where the statement is (Operations nested stack, only
 * with a DR tier), and what it admits, evaluated with the IAM simulator the isolation check uses.
 */
type Resources = Record<string, { Type: string; Properties?: any }>;
const busPolicies = (resources: Resources) => Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Events::EventBusPolicy');
/** A `Fn::Join` of literal parts and pseudo parameters, rendered with `<Name>`. */
const rendered = (v: any): string => (typeof v === 'string' ? v : v?.['Fn::Join'] ? (v['Fn::Join'][1] as any[]).map(rendered).join(v['Fn::Join'][0]) : v?.Ref ? `<${v.Ref}>` : JSON.stringify(v));

let ops: Resources;
let platform: Resources;

beforeAll(async () => {
  // GIVEN the app with a DR tier (professional, us-west-2), built without bundling (synthesized once
  // per state of the sources: test/support/default-app.ts; the Operations nested stack's template is
  // the platform's child `Operations`)
  const built = await appTemplates({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } });
  expect(built.stackPaths.operations).toBe(`${built.stackPaths.platform}/Operations`);
  ops = built.operations.toJSON().Resources;
  platform = built.platform.toJSON().Resources;
}, 120_000);

describe('platform bus policy: restore-test results of the DR tiers', () => {
  it('has a statement in the Operations stack admitting only AWS Backup restore job state changes from the organization\'s forwarder roles', () => {
    const statements = busPolicies(ops).map(([, p]) => p.Properties);
    expect(statements.map((p) => p.StatementId).sort()).toEqual([RESTORE_EVENTS_BUS_SID, TENANT_DLQ_ALARMS_BUS_SID].sort());
    const p = statements.find((s) => s.StatementId === RESTORE_EVENTS_BUS_SID)!;
    expect(p.EventBusName).toEqual({ Ref: expect.stringMatching(/LifecycleEventsBus/) });
    expect(p.Statement).toMatchObject({
      Sid: RESTORE_EVENTS_BUS_SID, Effect: 'Allow', Principal: { AWS: '*' }, Action: 'events:PutEvents',
      Condition: {
        StringEquals: { 'aws:PrincipalOrgID': DEFAULT_CONFIG.organization.organizationId },
        'ForAllValues:StringEquals': { 'events:source': ['aws.backup'], 'events:detail-type': ['Restore Job State Change'] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    });
    expect(Object.keys(p.Statement.Condition).sort()).toEqual(['ArnLike', 'ForAllValues:StringEquals', 'Null', 'StringEquals']);
    expect(rendered(p.Statement.Condition.ArnLike['aws:PrincipalArn'])).toBe('arn:<AWS::Partition>:iam::*:role/tessera/service-role/*');
    // the same source and detail type as the blueprints' forwarding rule and the recorder's rule
    expect([BACKUP_EVENT_SOURCE, RESTORE_JOB_STATE_CHANGE]).toEqual(['aws.backup', 'Restore Job State Change']);
    const recorderRule = Object.values(ops).find((r) => r.Type === 'AWS::Events::Rule' && r.Properties.Description?.startsWith('AWS Backup restore-test job state changes'))!;
    expect(recorderRule.Properties.EventPattern).toEqual({ source: ['aws.backup'], 'detail-type': ['Restore Job State Change'] });
  });

  it('adds no resource to the platform stack (its only bus statement stays the training events\') and none without a DR tier', () => {
    expect(busPolicies(platform).map(([id]) => id)).toEqual([expect.stringContaining('OrganizationForwardsTrainingEvents')]);
    expect(Object.keys(platform).length).toBeLessThan(500);
    const defaults = defaultAppTemplates();
    expect(Object.keys(defaults.platform.toJSON().Resources)).toHaveLength(Object.keys(platform).length);
    expect(busPolicies(defaults.operations.toJSON().Resources).map(([, p]) => p.Properties.StatementId)).toEqual([TENANT_DLQ_ALARMS_BUS_SID]);
  });
});

describe('the restore-events statement, evaluated (@cloud-copilot/iam-simulate, as the isolation check does)', () => {
  const FORWARDER = `arn:aws:iam::${TENANT_ACCOUNT}:role/tessera/service-role/TesseraTenant-DisasterRecoveryRestoreEventsRole1A2B3C4D-EF56GH78`;
  let put: ReturnType<typeof platformBusPut>;
  beforeAll(() => {
    // The Operations stack's statement, with the bus's ARN (a nested stack parameter there) and the partition filled in
    put = platformBusPut(busPolicies(ops).find(([, r]) => r.Properties.StatementId === RESTORE_EVENTS_BUS_SID)![1].Properties.Statement);
  });
  const BACKUP = ['aws.backup'];
  const RESTORE = ['Restore Job State Change'];

  it('admits a forwarder role of an organization account putting restore job state changes (one or several in a call)', async () => {
    expect((await put(FORWARDER, BACKUP, RESTORE)).result).toBe('Allowed');
    expect((await put(FORWARDER, ['aws.backup', 'aws.backup'], ['Restore Job State Change', 'Restore Job State Change'])).result).toBe('Allowed');
  });

  it('refuses other sources and detail types, a call mixing them in, a request without the keys, roles off the service path and accounts outside the organization', async () => {
    for (const [what, r] of [
      ['an onboarding request', await put(FORWARDER, ['tessera.lifecycle'], ['Tenant Onboarding Requested'])],
      ['a restore event and an onboarding request in one call', await put(FORWARDER, ['aws.backup', 'tessera.lifecycle'], ['Restore Job State Change', 'Tenant Onboarding Requested'])],
      ['a backup job state change (another AWS Backup detail type)', await put(FORWARDER, BACKUP, ['Backup Job State Change'])],
      ['a copy job state change', await put(FORWARDER, BACKUP, ['Copy Job State Change'])],
      ['a SageMaker source with the restore detail type', await put(FORWARDER, ['aws.sagemaker'], RESTORE)],
      ['an alarm state change (admitted by its own statement, not this one)', await put(FORWARDER, ['aws.cloudwatch'], ['CloudWatch Alarm State Change'])],
      // (a request without the keys: ForAllValues alone would be true of it; the Null condition refuses it)
      ['a request without events:source and events:detail-type', await put(FORWARDER, undefined, undefined)],
      ['a tenant role off the service path', await put(`arn:aws:iam::${TENANT_ACCOUNT}:role/tessera-acme-admin`, BACKUP, RESTORE)],
      ['a service-path role of an account of another organization', await put(FORWARDER, BACKUP, RESTORE, 'o-otherorg99')],
    ] as const) expect(r.allowed, `${what}: ${r.result}`).toBe(false);
  });
});
