import { vi } from 'vitest';
import { serviceLogger } from '../../lambdas/shared/service-logger.js';

/** A logged line as the code wrote it: the level, the message and the keys passed after it (Powertools' own keys aside). */
export type LoggedLine = { level: 'INFO' | 'WARN' | 'ERROR'; message: string } & Record<string, unknown>;

/**
 * Spies on the `level` method of a service's Powertools logger (lambdas/shared/service-logger.ts), printing nothing;
 * `lines()` reads each call back as the line it logs (`{ level, message, ...keys }`). Restored by `mockRestore()` or
 * `vi.restoreAllMocks()`. The tests run with POWERTOOLS_LOG_LEVEL=SILENT: the spy sees the calls, stdout sees nothing.
 */
export function logSpy(service: string, level: 'info' | 'warn' | 'error') {
  const spy = vi.spyOn(serviceLogger(service), level).mockImplementation(() => undefined);
  const lines = (): LoggedLine[] => spy.mock.calls.map(([message, ...extra]) => ({
    level: level.toUpperCase() as LoggedLine['level'], message: String(message), ...Object.assign({}, ...extra.map((e) => (typeof e === 'object' && e !== null ? e : { extra: e }))),
  }));
  return Object.assign(spy, { lines });
}
