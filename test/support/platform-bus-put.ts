import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import { evaluate } from '../../lib/preflight/iam-eval.js';

/** A tenant account of the default organization, for PutEvents requests made from it. */
export const TENANT_ACCOUNT = '111122223333';
/** The platform bus of the default config. */
export const PLATFORM_BUS_ARN = `arn:aws:events:${DEFAULT_CONFIG.homeRegion}:${DEFAULT_CONFIG.platformAccountId}:event-bus/${PLATFORM_EVENT_BUS_NAME}`;

/** A `Fn::Join` of literal parts and pseudo parameters, rendered with `<Name>`. */
const rendered = (v: any): string => (typeof v === 'string' ? v : v?.['Fn::Join'] ? (v['Fn::Join'][1] as any[]).map(rendered).join(v['Fn::Join'][0]) : v?.Ref ? `<${v.Ref}>` : JSON.stringify(v));

/**
 * PutEvents on the platform bus from a tenant account, decided by one statement of the bus
 * policy alone (the caller's own policy allows it), with @cloud-copilot/iam-simulate as the
 * isolation check does. `statement` is the synthesized `AWS::Events::EventBusPolicy` Statement:
 * its Resource (a nested stack parameter) becomes the bus ARN and its `aws:PrincipalArn` pattern is
 * rendered with partition `aws`.
 * @returns `put(principal, sources, detailTypes, orgId?)`: the simulator's answer; `sources` /
 *   `detailTypes` undefined leave the `events:source` / `events:detail-type` keys out of the request.
 */
export function platformBusPut(statement: any) {
  const s = structuredClone(statement);
  s.Resource = PLATFORM_BUS_ARN;
  s.Condition.ArnLike['aws:PrincipalArn'] = rendered(s.Condition.ArnLike['aws:PrincipalArn']).replace('<AWS::Partition>', 'aws');
  const policy = { Version: '2012-10-17', Statement: [s] };
  return (principal: string, sources: string[] | undefined, detailTypes: string[] | undefined, orgId = DEFAULT_CONFIG.organization.organizationId) => evaluate({
    principalArn: principal, action: 'events:PutEvents', resource: PLATFORM_BUS_ARN, resourceAccount: DEFAULT_CONFIG.platformAccountId,
    context: {
      'aws:PrincipalArn': principal, 'aws:PrincipalAccount': TENANT_ACCOUNT, 'aws:PrincipalOrgID': orgId, 'aws:PrincipalType': 'AssumedRole',
      ...(sources ? { 'events:source': sources } : {}), ...(detailTypes ? { 'events:detail-type': detailTypes } : {}),
    },
    identityPolicies: [{ name: 'forwarder', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: PLATFORM_BUS_ARN }] } }],
    scps: [],
    resourcePolicy: policy,
  });
}
