import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { auditSelectorNames } from '../../../lib/config/audit-data-events.js';
import { configErrorOf } from '../../support/config-errors.js';

describe('config: audit.dataEvents', () => {
  it('absent by default: the trail records no data event (billed per event)', () => {
    const config = loadConfig({ overrides: {} });
    expect(config.audit.dataEvents).toBeUndefined();
    expect(auditSelectorNames(config.audit.dataEvents)).toEqual([]);
  });

  it('fills the defaults of a partial key: s3Objects none, lambdaInvoke false', () => {
    expect(loadConfig({ overrides: { audit: { dataEvents: { lambdaInvoke: true } } } }).audit.dataEvents).toEqual({ s3Objects: 'none', lambdaInvoke: true });
    expect(loadConfig({ overrides: { audit: { dataEvents: { s3Objects: 'tenant-data' } } } }).audit.dataEvents).toEqual({ s3Objects: 'tenant-data', lambdaInvoke: false });
  });

  it('names the selectors it gives the trail, management events first', () => {
    expect(auditSelectorNames({ s3Objects: 'tenant-data', lambdaInvoke: true })).toEqual([
      'Tessera: management events, read and write', 'Tessera: S3 object events of tenant data buckets', 'Tessera: Lambda Invoke events',
    ]);
    expect(auditSelectorNames({ s3Objects: 'all', lambdaInvoke: false })).toEqual(['Tessera: management events, read and write', 'Tessera: S3 object events of every bucket but the audit bucket']);
    expect(auditSelectorNames({ s3Objects: 'none', lambdaInvoke: false })).toEqual([]);
  });

  it('refuses an unknown choice or key, naming the key path and the value', () => {
    expect(configErrorOf({ audit: { dataEvents: { s3Objects: 'tenants' } } })).toMatch(/audit\.dataEvents\.s3Objects = "tenants"/);
    expect(configErrorOf({ audit: { dataEvents: { lambdaInvoke: 'yes' } } })).toMatch(/audit\.dataEvents\.lambdaInvoke = "yes"/);
    expect(configErrorOf({ audit: { dataEvents: { dynamodb: true } } })).toMatch(/audit\.dataEvents/);
    expect(configErrorOf({ audit: { dataEvents: { dynamodb: true } } })).toMatch(/dynamodb/);
  });
});
