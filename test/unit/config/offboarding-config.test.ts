import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { deployedLifecycleHandlers } from '../../../lib/lifecycle-handlers.js';
import { configErrorOf } from '../../support/config-errors.js';

describe('config: offboarding.erasePooledGatewayData', () => {
  it('is off by default (absent: no erasure step is deployed) and takes true, which deploys the step', () => {
    const plain = loadConfig({ overrides: {} });
    expect(plain.offboarding?.erasePooledGatewayData).toBeUndefined();
    expect(deployedLifecycleHandlers(plain)).not.toContain('erase-pooled-gateway-data');
    // without it, the offboarding gives what the tenant leaves an expiry instead
    expect(deployedLifecycleHandlers(plain)).toContain('expire-pooled-gateway-data');
    const config = loadConfig({ overrides: { offboarding: { erasePooledGatewayData: true } } });
    expect(config.offboarding).toEqual({ erasePooledGatewayData: true });
    expect(deployedLifecycleHandlers(config)).toContain('erase-pooled-gateway-data');
    expect(deployedLifecycleHandlers(config)).not.toContain('expire-pooled-gateway-data');
  });

  it('refuses a non-boolean and unknown keys, naming the key path', () => {
    expect(configErrorOf({ offboarding: { erasePooledGatewayData: 'yes' } })).toMatch(/offboarding\.erasePooledGatewayData = "yes"/);
    expect(configErrorOf({ offboarding: { erasePooledData: true } })).toMatch(/offboarding\.erasePooledData.*erasePooledGatewayData/);
  });
});
