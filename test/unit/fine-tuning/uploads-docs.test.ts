import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_PART_BYTES, LAMBDA_MAX_UPLOAD_BYTES, MAX_UPLOAD_PARTS, SERVE_MAX_PART_BYTES, SERVE_MAX_UPLOAD_BYTES } from '../../../lambdas/fine-tuning/uploads-service.js';

/**
 * docs/fine-tuning.md's "Large files: the Uploads API" states the limits uploads-service.ts enforces: the largest part
 * and upload on each path, and the bound on the number of parts, with what answers a part past it.
 */
const section = (() => {
  const doc = readFileSync(new URL('../../../docs/fine-tuning.md', import.meta.url), 'utf8');
  const start = doc.indexOf('### Large files: the Uploads API');
  return doc.slice(start, doc.indexOf('\n### ', start + 1));
})();
const MiB = 1024 * 1024;

describe('docs/fine-tuning.md, the Uploads API\'s limits', () => {
  it('names the part and upload sizes of each path as the service enforces them', () => {
    expect(section).toContain(`**Parts: at most ${LAMBDA_MAX_PART_BYTES / MiB} MiB on the deployed path, ${SERVE_MAX_PART_BYTES / MiB} MiB on \`tessera serve\`.**`);
    expect(section).toContain(`\`bytes\` is at most ${LAMBDA_MAX_UPLOAD_BYTES / MiB} MiB on AWS`);
    expect(section).toContain(`${SERVE_MAX_UPLOAD_BYTES / MiB} MiB on \`tessera serve\` (OpenAI's file`);
  });

  it('names the bound on parts, its reason and the refusal of the part past it', () => {
    expect(section).toContain(`**At most ${MAX_UPLOAD_PARTS} parts an upload, on both paths** (\`MAX_UPLOAD_PARTS\`)`);
    expect(section).toMatch(/a 400 `too_many_parts` naming `data` and\s+the bound/);
    expect(section).toMatch(/\d+ reads at 50 ms are about\s+13 s/);
    expect(section).toContain(`${MAX_UPLOAD_PARTS} parts of ${LAMBDA_MAX_PART_BYTES / MiB} MiB are`);
  });
});
