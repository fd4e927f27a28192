import { afterEach, describe, expect, it, vi } from 'vitest';
import { entryLogger, serviceLogger } from '../../../lambdas/shared/service-logger.js';

// Each test names its own service: a logger reads POWERTOOLS_LOG_LEVEL when it is made, and stays cached by name.
let made = 0;
const fresh = () => `tessera-test-${++made}-${Date.now()}`;

/** What `fn` writes to stdout and stderr (the Console Powertools makes writes to the process streams). */
function printed(fn: () => void): { stdout: string[]; stderr: string[] } {
  const out = { stdout: [] as string[], stderr: [] as string[] };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { out.stdout.push(String(chunk)); return true; });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { out.stderr.push(String(chunk)); return true; });
  try {
    fn();
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return out;
}

afterEach(() => vi.unstubAllEnvs());

describe('serviceLogger', () => {
  it('is one Powertools Logger per service name', () => {
    const name = fresh();
    expect(serviceLogger(name)).toBe(serviceLogger(name));
    expect(serviceLogger(name)).not.toBe(serviceLogger(fresh()));
  });

  it('prints one JSON line: level, message, timestamp, service, then the keys given at the top level; INFO on stdout, WARN and ERROR on stderr', () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    vi.stubEnv('POWERTOOLS_DEV', '');
    const name = fresh();
    const logger = serviceLogger(name);
    const out = printed(() => {
      logger.info('batch chunk', { queue: 'q', messageId: 'm1' });
      logger.warn('gateway policy event not sent', { tenantId: 'acme' });
      logger.error('audit write failed', { error: 'disk full' });
    });
    expect(out.stdout).toHaveLength(1);
    expect(JSON.parse(out.stdout[0])).toEqual({ level: 'INFO', message: 'batch chunk', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), service: name, sampling_rate: 0, queue: 'q', messageId: 'm1' });
    expect(out.stderr.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'gateway policy event not sent', service: name, tenantId: 'acme' }),
      expect.objectContaining({ level: 'ERROR', message: 'audit write failed', service: name, error: 'disk full' }),
    ]);
  });

  it('honours POWERTOOLS_LOG_LEVEL: WARN drops INFO, SILENT prints nothing', () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    const warnOnly = serviceLogger(fresh());
    const some = printed(() => { warnOnly.info('dropped'); warnOnly.warn('kept'); });
    expect([some.stdout, some.stderr.map((l) => JSON.parse(l).message)]).toEqual([[], ['kept']]);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    const silent = serviceLogger(fresh());
    expect(printed(() => { silent.info('a'); silent.error('b'); })).toEqual({ stdout: [], stderr: [] });
  });

  it('entryLogger logs an entry at its own level, its other keys at the top level', () => {
    const logger = serviceLogger(fresh());
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const log = entryLogger(logger);
    log({ level: 'ERROR', message: 'request events not delivered', count: 2 });
    log({ level: 'WARN', message: 'w', a: 1 });
    expect(error.mock.calls).toEqual([['request events not delivered', { count: 2 }]]);
    expect(warn.mock.calls).toEqual([['w', { a: 1 }]]);
  });
});
