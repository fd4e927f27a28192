import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_PART_BYTES, SERVE_MAX_PART_BYTES } from '../../../lambdas/fine-tuning/uploads-service.js';
import { GATEWAY_UPLOAD_PURPOSES, LAMBDA_MAX_GATEWAY_UPLOAD_BYTES } from '../../../lambdas/inference/uploads/gateway-uploads.js';
import { MAX_BATCH_FILE_BYTES } from '../../../lambdas/inference/batches/input-file.js';

/** docs/gateway.md's "Large files: the Uploads API" states the purposes and limits gateway-uploads.ts enforces. */
const section = (() => {
  const doc = readFileSync(new URL('../../../docs/gateway.md', import.meta.url), 'utf8');
  const start = doc.indexOf('**Large files: the Uploads API.**');
  return doc.slice(start, doc.indexOf('\n\n', start));
})();
const MiB = 1024 * 1024;

describe('docs/gateway.md, the gateway uploads\' purposes and limits', () => {
  it('names every purpose taken and the limits of each path', () => {
    expect(section).not.toBe('');
    for (const purpose of GATEWAY_UPLOAD_PURPOSES) expect(section).toContain(`\`${purpose}\``);
    expect(section).toContain(`parts of up to ${SERVE_MAX_PART_BYTES / MiB} MiB`);
    expect(section).toContain(`parts of up to ${LAMBDA_MAX_PART_BYTES / MiB} MiB`);
    expect(section).toMatch(new RegExp(`uploads\\s+of up to ${LAMBDA_MAX_GATEWAY_UPLOAD_BYTES / MiB} MiB`));
    expect(section).toMatch(new RegExp(`bytes\`\\s+over ${MAX_BATCH_FILE_BYTES / MiB} MiB \\(${MAX_BATCH_FILE_BYTES.toLocaleString('en-US')} bytes`));
  });
});
