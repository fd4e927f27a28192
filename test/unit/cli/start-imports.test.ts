import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * What a `tessera` start loads. The config's schema (lib/config/schema.ts) builds its zod schemas when it loads, and
 * read aws-cdk-lib's region table (lib/config/region.ts) until session 26: about a third of the CPU of a start that
 * needs neither. The CLI's error reporting (lib/cli/report-error.ts) and every `tessera tenants` command but
 * failover-plan read no config, so they must not load it; failover-plan loads it when it reads its --config, and
 * that no longer loads aws-cdk-lib (region.ts holds CDK's region table: test/unit/config/region-table.test.ts).
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');

/** A preload that prints, at exit, how many modules of aws-cdk-lib the process loaded, and whether it loaded the config schema. */
const COUNT_START_MODULES = join(import.meta.dirname, 'count-start-modules.mjs');

/** `node bin/tessera.mjs <args>` as a user runs it, with the preload: its exit code and stderr. */
function tessera(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', COUNT_START_MODULES, join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, timeout: 60_000, env: { ...process.env, TESSERA_API_URL: '' } },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }));
  });
}

describe('a tessera start loads the config schema only for a command that reads a config', () => {
  it('tessera tenants show with a bad id: refused (exit 2) without loading the schema or aws-cdk-lib; tenants failover-plan --config loads the schema, not aws-cdk-lib, to read the file', async () => {
    const refused = await tessera('tenants', 'show', 'Acme');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: command-argument value 'Acme' is invalid for argument 'id'/);
    expect(refused.stderr).toContain('aws-cdk-lib modules loaded: 0\n');
    expect(refused.stderr).toContain('config schema loaded: 0\n');
    // The control: the same count where the schema is loaded (the config file's problems are its messages).
    const file = join(tempDir('tessera-test-start-imports-'), 'bad.yaml');
    writeFileSync(file, 'homeRegoin: us-east-1\n');
    const configRead = await tessera('tenants', 'failover-plan', 'acme', '--config', file);
    expect(configRead.code).toBe(2);
    expect(configRead.stderr).toMatch(/homeRegoin.*homeRegion/);
    expect(configRead.stderr).toContain('config schema loaded: 1\n');
    // The schema's region check reads CDK's region table from lib/config/region.ts, not aws-cdk-lib/region-info.
    expect(configRead.stderr).toContain('aws-cdk-lib modules loaded: 0\n');
  }, 60_000);
});
