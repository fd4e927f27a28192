import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyJson } from '../../lib/preflight/iam-eval.js';
import { mayAssume } from '../support/assume-role-eval.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/** The platform account and organization of the default config. */
const PLATFORM = '222222222222';
const BREAK_GLASS = `arn:aws:iam::${PLATFORM}:role/TesseraBreakGlass`;
const TENANT_BREAK_GLASS = 'arn:aws:iam::444455556666:role/tessera-acme-break-glass';

let policies: Array<{ name: string; policy: PolicyJson }>;
beforeAll(() => {
  // GIVEN the platform break-glass role's policy in the default app (in its FunctionPolicies nested stack), as CloudFormation resolves it
  const platform = defaultAppTemplates().platformWithPolicies;
  policies = Object.entries(platform.findResources('AWS::IAM::ManagedPolicy'))
    .filter(([id]) => id.startsWith('BreakGlassPolicy'))
    .map(([id, p]: [string, any]) => ({ name: id, policy: resolveIntrinsics(p.Properties.PolicyDocument, { 'AWS::Partition': 'aws', 'AWS::AccountId': PLATFORM, 'AWS::Region': 'us-east-1' }) as PolicyJson }));
});

describe('the platform break-glass role (constructs/break-glass-role.ts)', () => {
  it('assumes, with source identity and session tags, the tenant break-glass roles of this organization\'s accounts only (aws:ResourceOrgID): tenant accounts are vended at run time, so the ARN says account "*"', async () => {
    expect(policies).toHaveLength(1);
    for (const action of ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']) {
      expect(await mayAssume(BREAK_GLASS, policies, TENANT_BREAK_GLASS, 'o-exampleorg1', action), `${action} in the organization`).toBe(true);
      expect(await mayAssume(BREAK_GLASS, policies, TENANT_BREAK_GLASS, 'o-otherorg99', action), `${action} in another organization`).toBe(false);
    }
    expect(await mayAssume(BREAK_GLASS, policies, 'arn:aws:iam::444455556666:role/tessera-acme-admin', 'o-exampleorg1')).toBe(false);
  });
});
