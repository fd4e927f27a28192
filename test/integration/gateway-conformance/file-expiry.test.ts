import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FILE_TTL_SECONDS } from '../../../lambdas/inference/batches/batch-service.js';
import { DirBatchFileStore } from '../../../lambdas/inference/batches/stores.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { tempDir } from '../../support/temp-dirs.js';
import { PNG_BASE64 } from './matrix.js';
import { nodeClient } from './official-clients.js';
import { fakeAwsEnv, plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * How long `tessera serve` keeps a Files API file, as OpenAI's Files API ("Upload file", `expires_after`: "By default,
 * files with purpose=batch expire after 30 days and all other files are persisted until they are manually deleted";
 * seconds 3600 to 2592000): `user_data`, `vision` and `assistants` uploaded without `expires_after` answer `expires_at`
 * null and are still read 31 days later (the file store's clock moved on); a `batch` file is gone then; an
 * `expires_after` is honoured for every purpose, and one out of range refused naming `expires_after[seconds]`.
 */
fakeAwsEnv();
const DAY_MS = 86_400_000;
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.from(PNG_BASE64, 'base64');
const JSONL = Buffer.from('{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{}}\n');

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let token: string;
/** The file store's clock: the real time plus `skewMs` (the gateway stamps created_at with the real time). */
let skewMs = 0;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const files = new DirBatchFileStore(tempDir('file-expiry-'), () => Date.now() + skewMs);
  gw = await serveGateway(conformanceConfig(), upstream.url, [plainTenant('acme')], { batches: { files, concurrency: 1 } });
  token = await gw.token('acme');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const client = () => nodeClient(gw.url, token);
const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(OpenAI.APIError);
  const err = e as InstanceType<typeof OpenAI.APIError>;
  return { status: err.status, ...(err.error as Record<string, unknown>) };
};

describe('file expiry on tessera serve, as OpenAI\'s', () => {
  it('keeps user_data, vision and assistants files until deleted (expires_at null) unless expires_after sets an expiry, honoured for every purpose; a batch file expires after 30 days', async () => {
    skewMs = 0;
    const kept = [
      await client().files.create({ file: await toFile(PDF, 'report.pdf'), purpose: 'user_data' }),
      await client().files.create({ file: await toFile(PNG, 'chart.png'), purpose: 'vision' }),
      await client().files.create({ file: await toFile(Buffer.from('notes\n'), 'notes.txt'), purpose: 'assistants' }),
    ];
    const batch = await client().files.create({ file: await toFile(JSONL, 'in.jsonl'), purpose: 'batch' });
    for (const f of kept) expect(f.expires_at, f.purpose).toBeNull();
    expect(batch.expires_at).toBe(batch.created_at + DEFAULT_FILE_TTL_SECONDS);

    skewMs = 31 * DAY_MS;
    for (const f of kept) {
      expect(await client().files.retrieve(f.id), f.purpose).toMatchObject({ id: f.id, purpose: f.purpose, expires_at: null });
      // An assistants file is not downloadable (OpenAI's 400), but is still there: the refusal is not a 404.
      if (f.purpose === 'assistants') expect(await refusal(client().files.content(f.id))).toMatchObject({ status: 400, param: 'file_id' });
      else expect((await (await client().files.content(f.id)).arrayBuffer()).byteLength).toBe(f.bytes);
    }
    expect(await refusal(client().files.retrieve(batch.id))).toMatchObject({ status: 404 });
    expect((await client().files.list()).data.map((f) => f.id).sort()).toEqual(kept.map((f) => f.id).sort());
    for (const f of kept) expect(await client().files.delete(f.id)).toMatchObject({ id: f.id, deleted: true });
    expect((await client().files.list()).data).toEqual([]);

    // An expires_after is honoured for every purpose: the file is gone once it passes.
    skewMs = 0;
    const expiring = [
      await client().files.create({ file: await toFile(PDF, 'report.pdf'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 3600 } }),
      await client().files.create({ file: await toFile(PNG, 'chart.png'), purpose: 'vision', expires_after: { anchor: 'created_at', seconds: 7200 } }),
      await client().files.create({ file: await toFile(Buffer.from('notes\n'), 'notes.txt'), purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 2_592_000 } }),
      await client().files.create({ file: await toFile(JSONL, 'in.jsonl'), purpose: 'batch', expires_after: { anchor: 'created_at', seconds: 3600 } }),
    ];
    expect(expiring.map((f) => f.expires_at! - f.created_at)).toEqual([3600, 7200, 2_592_000, 3600]);
    skewMs = 2 * 3600_000;
    expect(await refusal(client().files.retrieve(expiring[0]!.id))).toMatchObject({ status: 404 });
    expect(await client().files.retrieve(expiring[2]!.id)).toMatchObject({ id: expiring[2]!.id });
    skewMs = 31 * DAY_MS;
    expect((await client().files.list()).data).toEqual([]);
    skewMs = 0;
  });

  it('refuses an expires_after out of OpenAI\'s range (3600 to 2592000 seconds) naming expires_after[seconds], storing nothing', async () => {
    skewMs = 0;
    for (const [purpose, seconds] of [['user_data', 3599], ['assistants', 2_592_001], ['batch', 0]] as const) {
      const file = purpose === 'batch' ? await toFile(JSONL, 'in.jsonl') : await toFile(Buffer.from('notes\n'), 'notes.txt');
      expect(await refusal(client().files.create({ file, purpose, expires_after: { anchor: 'created_at', seconds } })), `${purpose} ${seconds}`)
        .toMatchObject({
          status: 400, param: 'expires_after[seconds]', code: seconds > 2_592_000 ? 'integer_above_max_value' : 'integer_below_min_value',
          message: seconds > 2_592_000 ? `Invalid 'expires_after[seconds]': integer above maximum value. Expected a value <= 2592000, but got ${seconds} instead.` : `Invalid 'expires_after[seconds]': integer below minimum value. Expected a value >= 3600, but got ${seconds} instead.`,
        });
    }
    expect(await refusal(client().files.create({ file: await toFile(PDF, 'report.pdf'), purpose: 'user_data', expires_after: { anchor: 'last_active_at' as never, seconds: 3600 } })))
      .toMatchObject({ status: 400, param: 'expires_after[anchor]' });
    expect((await client().files.list()).data).toEqual([]);
  });
});
