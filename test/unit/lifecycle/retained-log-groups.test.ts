import { describe, expect, it } from 'vitest';
import { tenantResourceName } from '../../../lambdas/lifecycle/retained-log-groups.js';

describe('tenantResourceName', () => {
  it('puts the tenant id into a name as aws-cdk-lib renders it (a plain string, or Fn::Join of strings and Ref TenantId)', () => {
    expect(tenantResourceName('/tessera/fixed', 'acme')).toBe('/tessera/fixed');
    expect(tenantResourceName({ 'Fn::Join': ['', ['/aws/eks/tessera-', { Ref: 'TenantId' }, '/cluster']] }, 'acme')).toBe('/aws/eks/tessera-acme/cluster');
    expect(tenantResourceName({ 'Fn::Join': ['-', ['tessera', { Ref: 'TenantId' }, 'logs']] }, 'acme')).toBe('tessera-acme-logs');
  });

  it('gives nothing for a form it cannot resolve (another Ref, another intrinsic): not compared', () => {
    expect(tenantResourceName({ 'Fn::Join': ['', ['/x/', { Ref: 'AWS::Region' }]] }, 'acme')).toBeUndefined();
    expect(tenantResourceName({ 'Fn::Sub': '/x/${TenantId}' }, 'acme')).toBeUndefined();
    expect(tenantResourceName({ Ref: 'TenantId' }, 'acme')).toBeUndefined();
    expect(tenantResourceName(undefined, 'acme')).toBeUndefined();
  });
});
