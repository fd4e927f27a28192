import { describe, expect, it } from 'vitest';
import { checkHandlerPermissions } from '../../../lib/preflight/handler-permissions.js';
import { instantiate } from '../../../lib/preflight/instantiate.js';
import { ProviderSchemas } from '../../../lib/preflight/provider-schemas.js';

const ACCOUNT = '333333333333';
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/tessera-boundary`;
/** Every IAM action on a role that the Service Authorization Reference lists `iam:PermissionsBoundary` for, beyond CreateRole's own. */
const ON_THE_ROLE = ['iam:GetRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:DeleteRole'];

/** The role's handler permissions for a deployer allowed ON_THE_ROLE only on a role whose boundary is BOUNDARY. */
async function checksFor(roleBoundary: string) {
  const template = {
    Resources: {
      Worker: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: 'tessera-acme-worker',
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
          PermissionsBoundary: roleBoundary,
        },
      },
    },
  };
  const inst = instantiate(template as never, { tenantId: 'acme', vpcCidr: '10.0.0.0/16', account: ACCOUNT, region: 'eu-west-1' });
  const checks = await checkHandlerPermissions({
    inst, schemas: new ProviderSchemas(), scps: [], organizationId: 'o-exampleorg1',
    deployer: {
      principalArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
      identityPolicies: [{ name: 'boundary-held', policy: { Version: '2012-10-17', Statement: [
        { Effect: 'Allow', Action: ON_THE_ROLE, Resource: '*', Condition: { StringEquals: { 'iam:PermissionsBoundary': BOUNDARY } } },
      ] } }],
    },
  });
  return checks.filter((c) => ON_THE_ROLE.includes(c.action));
}

describe('iam:PermissionsBoundary on the calls a role\'s handlers make on it', () => {
  it('is the role\'s boundary for GetRole, UpdateRole, UpdateRoleDescription and DeleteRole (iam-data lists the key for each)', async () => {
    // GIVEN a deployer allowed those calls only on a role with the boundary, and a role with it
    const checks = await checksFor(BOUNDARY);
    // THEN each call the handlers list is evaluated with the key, so allowed
    expect([...new Set(checks.map((c) => c.action))].sort()).toEqual([...ON_THE_ROLE].sort());
    expect(checks.filter((c) => c.outcome !== 'allowed').map((c) => `${c.handler} ${c.action}: ${c.detail}`)).toEqual([]);
  }, 60_000);

  it('is denied on a role with another boundary (control)', async () => {
    const checks = await checksFor(`arn:aws:iam::${ACCOUNT}:policy/another-boundary`);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((c) => c.outcome !== 'denied').map((c) => `${c.handler} ${c.action}`)).toEqual([]);
  }, 60_000);
});
