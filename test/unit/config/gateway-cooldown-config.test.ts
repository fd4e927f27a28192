import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { cooldownPolicyOf } from '../../../lambdas/inference/model-health.js';
import { configErrorOf } from '../../support/config-errors.js';

describe('config: gateway.cooldown', () => {
  it('is on in the embedded default (3 failures within 60 s cool a model 30 s), takes partial settings, and false or null turns it off', () => {
    const on = { failures: 3, windowMs: 60_000, coolMs: 30_000 };
    expect(loadConfig({ overrides: {} }).gateway.cooldown).toEqual({ failures: 3, windowSeconds: 60, seconds: 30 });
    expect(cooldownPolicyOf(loadConfig({ overrides: {} }).gateway.cooldown)).toEqual(on);
    expect(loadConfig({ overrides: { gateway: { cooldown: { seconds: 120 } } } }).gateway.cooldown).toEqual({ failures: 3, windowSeconds: 60, seconds: 120 });
    expect(cooldownPolicyOf(loadConfig({ overrides: { gateway: { cooldown: false } } }).gateway.cooldown)).toBeUndefined();
    expect(cooldownPolicyOf(loadConfig({ overrides: { gateway: { cooldown: null } } }).gateway.cooldown)).toBeUndefined();
  });

  it('refuses a bad value or an unknown key, naming its path', () => {
    expect(configErrorOf({ gateway: { cooldown: { failures: 0 } } })).toMatch(/gateway\.cooldown\.failures/);
    expect(configErrorOf({ gateway: { cooldown: { seconds: '30' } } })).toMatch(/gateway\.cooldown\.seconds/);
    expect(configErrorOf({ gateway: { cooldown: { cooldownSeconds: 30 } } })).toMatch(/gateway\.cooldown\.cooldownSeconds/);
    expect(configErrorOf({ gateway: { cooldown: true } })).toMatch(/gateway\.cooldown/);
  });

  it('says for true (or another non-mapping) that {} takes the defaults and false or null turns it off', () => {
    for (const value of [true, 'on', 30, ['failures']]) {
      const message = configErrorOf({ gateway: { cooldown: value } });
      expect(message).toMatch(/gateway\.cooldown = .*: must be a mapping of keys \(failures, windowSeconds, seconds\)/);
      expect(message).toContain('{} turns the cooldown on with the defaults (3 failures within 60 seconds rest a model 30 seconds), false or null turns it off');
    }
  });
});
