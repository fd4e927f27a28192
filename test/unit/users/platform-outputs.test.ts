import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAppTemplates } from '../../support/default-app.js';

let platform: Template;
beforeAll(() => {
  // The default app's platform stack (buildApp() of the default config), through its shared disk cache.
  platform = defaultAppTemplates().platform;
});

describe('the platform stack outputs tessera users and login read', () => {
  it('TenantUserPoolId and TenantUserPoolClientId name the tenant pool and its SRP-only gateway client (the authorizer\'s audience)', () => {
    const outputs = platform.toJSON().Outputs as Record<string, { Value: unknown }>;
    const pools = platform.findResources('AWS::Cognito::UserPool');
    const clients = platform.findResources('AWS::Cognito::UserPoolClient');
    expect(Object.keys(pools)).toHaveLength(1);
    expect(Object.keys(clients)).toHaveLength(1);
    const [clientId] = Object.keys(clients);
    expect(outputs.TenantUserPoolId.Value).toEqual({ Ref: Object.keys(pools)[0] });
    expect(outputs.TenantUserPoolClientId.Value).toEqual({ Ref: clientId });
    expect(clients[clientId].Properties).toMatchObject({ ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], GenerateSecret: false });
    // The authorizer's audience is this client: the ID token `tessera login` prints carries it as `aud`.
    const authorizer = Object.values(platform.findResources('AWS::Lambda::Function')).find((f) => JSON.stringify(f.Properties.Environment ?? {}).includes(clientId));
    expect(authorizer).toBeDefined();
  });
});
