import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config/load-config.js';

/**
 * The error message `loadConfig({ overrides })` throws, as text. Fails the test when the error is
 * not a `ConfigError`, and throws when the overrides are accepted.
 */
export function configErrorOf(overrides: unknown): string {
  try {
    loadConfig({ overrides });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(overrides)} to be rejected`);
}
