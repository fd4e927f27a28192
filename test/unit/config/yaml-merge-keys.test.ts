import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../lib/config/load-config.js';
import { tempDir } from '../../support/temp-dirs.js';

/** A config file with YAML anchors and merge keys (`<<: *base`), as platform teams write shared tier sections. */
describe('config file: YAML anchors and merge keys', () => {
  const write = (text: string) => {
    const file = join(tempDir('tessera-merge-'), 'tessera.config.yaml');
    writeFileSync(file, text);
    return file;
  };

  it('merges a `<<: *anchor` map into the mapping, the mapping\'s own keys winning', () => {
    // GIVEN: professional's limits from an anchor on starter's, with requestsPerMinute of its own
    const file = write(
      [
        'tiers:',
        '  starter:',
        '    limits: &limits { requestsPerMinute: 100, requestsPerHour: 6000, requestsPerDay: 60000, tokensPerDay: 1000000 }',
        '  professional:',
        '    limits: { <<: *limits, requestsPerMinute: 300 }',
        '',
      ].join('\n'),
    );
    // WHEN
    const config = loadConfig({ file });
    // THEN
    expect(config.tiers.professional.limits).toMatchObject({ requestsPerMinute: 300, requestsPerHour: 6000, requestsPerDay: 60000, tokensPerDay: 1000000 });
    expect(config.tiers.starter.limits).toMatchObject({ requestsPerMinute: 100, requestsPerHour: 6000 });
  });

  it('refuses a merge key whose value is not a map, naming the file and the rule', () => {
    // GIVEN
    const file = write('tiers:\n  starter:\n    limits: { <<: 3 }\n');
    // WHEN
    const thrown = (() => {
      try {
        loadConfig({ file });
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    // THEN
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain(file);
    expect((thrown as Error).message).toMatch(/is not valid YAML\/JSON: Merge sources must be maps or map aliases/);
  });
});
