import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectAnswers } from '../../../lib/cli/init/collect-answers.js';
import { renderConfig } from '../../../lib/cli/init/render-config.js';

const GUIDE = readFileSync(join(__dirname, '../../../docs/deploying.md'), 'utf8');

/** The guide's `tessera init --yes` example: its flags, as the console block gives them. */
const EXAMPLE_FLAGS = {
  managementAccountId: '111122223333', organizationId: 'o-a1b2c3d4e5', rootId: 'r-ab12',
  platformAccountId: '444455556666', workloadAccountId: '777788889999',
  homeRegion: 'us-west-2', allowedRegions: 'us-west-2,us-east-1',
  availabilityZones: ['us-west-2=us-west-2a,us-west-2b,us-west-2c'], tiers: 'starter,professional',
};

/** The YAML block under "The file it wrote" of docs/deploying.md#tessera-init, line by line. */
function guideFile(): string[] {
  const after = GUIDE.slice(GUIDE.indexOf('The file it wrote'));
  const block = /```yaml\n([\s\S]*?)```/.exec(after);
  if (!block) throw new Error('docs/deploying.md: no yaml block after "The file it wrote"');
  return block[1].trimEnd().split('\n');
}

/** `lines` with the second base model's keys after its id (the guide shortens them to one comment) left out. */
function secondModelShortened(lines: string[]): string[] {
  const start = lines.indexOf('    - id: mistral-7b-instruct');
  expect(start).toBeGreaterThan(0);
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith('      ')) end += 1;
  return [...lines.slice(0, start + 1), ...lines.slice(end)];
}

describe('the deploy guide\'s tessera init example (docs/deploying.md, "`tessera init`")', () => {
  it('shows the file its command writes, line for line, the second base model shortened', async () => {
    // GIVEN the example's flags (us-west-2 offers every default GPU type: no type is replaced)
    const answers = await collectAnswers(EXAMPLE_FLAGS);
    // WHEN
    const written = renderConfig(answers).trimEnd().split('\n');
    // THEN
    const shown = guideFile().filter((line) => !line.startsWith('      # … same images'));
    expect(shown).toEqual(secondModelShortened(written));
  });
});
