import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

describe('config: operations', () => {
  it('defaults to no alarm email, the documented gateway thresholds and top 10 tenants', () => {
    expect(loadConfig({ overrides: {} }).operations).toEqual({
      alarmEmails: [], alarms: { gatewayServerErrorPercent: 5, gatewayP99LatencyMs: 60_000, upstreamErrorPercent: 10 }, topTenants: 10,
    });
  });

  it('takes alarm emails and thresholds, filling the rest with defaults', () => {
    const ops = loadConfig({ overrides: { operations: { alarmEmails: ['ops@example.com'], alarms: { upstreamErrorPercent: 20 } } } }).operations;
    expect(ops).toEqual({ alarmEmails: ['ops@example.com'], alarms: { gatewayServerErrorPercent: 5, gatewayP99LatencyMs: 60_000, upstreamErrorPercent: 20 }, topTenants: 10 });
  });

  it('refuses what is not an email, a repeated address, thresholds out of range and unknown keys, naming the key path', () => {
    expect(configErrorOf({ operations: { alarmEmails: ['ops@example.com', 'not-an-email'] } })).toMatch(/operations\.alarmEmails\[1\] = "not-an-email": must be an email address/);
    expect(configErrorOf({ operations: { alarmEmails: ['ops@example.com', 'OPS@example.com'] } })).toMatch(/operations\.alarmEmails.*twice/);
    expect(configErrorOf({ operations: { alarms: { gatewayServerErrorPercent: 0 } } })).toMatch(/operations\.alarms\.gatewayServerErrorPercent/);
    expect(configErrorOf({ operations: { topTenants: 101 } })).toMatch(/operations\.topTenants/);
    expect(configErrorOf({ operations: { alarmEmail: 'ops@example.com' } })).toMatch(/operations.*alarmEmail/);
  });
});
