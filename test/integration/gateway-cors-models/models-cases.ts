import { get } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorsTarget } from './cors-cases.js';
import { ALIASES, IDS, nodeRetrieve, PythonRetriever, RECORD_FINE_TUNED_CREATED_AT, type Retrieved } from './fixtures.js';

const model = (id: string, owned_by: string) => (id === IDS.recordFineTuned
  // A tenant's fine-tuned model, as OpenAI answers one: deployed at its record's createdAt, owned by the tenant.
  ? { id, object: 'model', created: Date.parse(RECORD_FINE_TUNED_CREATED_AT) / 1000, owned_by }
  : { id, object: 'model', created: 0, owned_by });

/**
 * `client.models.retrieve(id)` with the official Node and Python clients against `start()`'s
 * gateway: ids with `/` (sent as `%2F` by both clients) and `:` (sent raw), the caller's own
 * fine-tuned models, embedding models; and a 404 `model_not_found` (NotFoundError) for an id the
 * caller may not use: another tenant's fine-tuned model, a model outside its tier, an unknown id.
 */
export function describeModelRetrieval(label: string, start: () => Promise<CorsTarget>): void {
  describe(`models.retrieve through ${label}`, () => {
    let target: CorsTarget;
    const tokens: Record<string, string> = {};
    /** The Python client's process, one for the file's Python cases. */
    const python = new PythonRetriever();
    const pythonRetrieve = (baseURL: string, cases: Array<{ apiKey: string; id: string }>) => python.retrieve(baseURL, cases);
    beforeAll(async () => {
      target = await start();
      for (const t of ['acme', 'globex', 'initech']) tokens[t] = await target.token(t);
    });
    afterAll(async () => {
      await python.stop();
      await target?.stop();
    });

    const retrieve = async (client: 'node' | 'python', tenant: string, ids: string[]): Promise<Retrieved[]> =>
      client === 'node' ? Promise.all(ids.map((id) => nodeRetrieve(target.url, tokens[tenant], id))) : pythonRetrieve(target.url, ids.map((id) => ({ apiKey: tokens[tenant], id })));
    /** One retrieve per case, in order: Node's one after the other, Python's in one batch (a client per tenant's key). */
    const retrieveEach = async (client: 'node' | 'python', cases: Array<[tenant: string, id: string]>): Promise<Retrieved[]> => {
      if (client === 'python') return pythonRetrieve(target.url, cases.map(([tenant, id]) => ({ apiKey: tokens[tenant], id })));
      const out: Retrieved[] = [];
      for (const [tenant, id] of cases) out.push(...(await retrieve(client, tenant, [id])));
      return out;
    };

    const mine = [
      [IDS.bedrock, 'bedrock'], [IDS.twoSlashes, 'huggingface'], [IDS.configuredFineTuned, 'sagemaker'],
      [IDS.recordFineTuned, 'acme'], [IDS.embedding, 'openai-compatible'],
    ] as const;

    it.each(['node', 'python'] as const)('%s client: the caller\'s models, ids with / and :, fine-tuned and embedding ones', async (client) => {
      const out = await retrieve(client, 'acme', mine.map(([id]) => id));
      for (const [i, [id, owner]] of mine.entries()) {
        expect(out[i], id).toMatchObject({ ok: true, model: model(id, owner) });
        // What went on the wire: `/` percent-encoded, `:` as it is (both SDKs encode path parameters).
        expect(out[i].path, id).toBe(`${new URL(target.url).pathname}/models/${id.replaceAll('/', '%2F')}`);
      }
    });

    it.each(['node', 'python'] as const)('%s client: shutdown_date, OpenAI\'s date string, for an openai/ model OpenAI announced one for (gpt-4o-mini: 2027-01-14); none (Python: None) for another', async (client) => {
      const [dated, undated] = await retrieve(client, 'acme', ['openai/gpt-4o-mini', IDS.bedrock]);
      expect(dated).toMatchObject({ ok: true, model: { id: 'openai/gpt-4o-mini', object: 'model', created: 0, owned_by: 'openai', shutdown_date: '2027-01-14' } });
      expect(undated.model.shutdown_date).toBe(client === 'node' ? undefined : null);
    });

    it.each(['node', 'python'] as const)('%s client: 404 model_not_found (NotFoundError) for an id the caller may not use', async (client) => {
      const cases: Array<[string, string]> = [
        ['acme', IDS.othersFineTuned], // another tenant's fine-tuned model
        ['globex', IDS.recordFineTuned], // another tenant's fine-tuned model (from its registry record)
        ['initech', IDS.twoSlashes], // huggingface is outside the starter tier
        ['acme', 'bedrock/no-such-model'], // unknown
      ];
      const outs = await retrieveEach(client, cases);
      expect(outs).toHaveLength(cases.length);
      for (const [i, [tenant, id]] of cases.entries()) {
        const out = outs[i];
        expect(out.id, `${tenant} ${id}`).toBe(id);
        expect(out, `${tenant} ${id}`).toMatchObject({ ok: false, status: 404, type: 'NotFoundError', error: { type: 'invalid_request_error', code: 'model_not_found', param: 'model' } });
        expect(out.error.message, `${tenant} ${id}`).toContain(id);
      }
    });

    it.each(['node', 'python'] as const)('%s client: an alias (gateway.modelAliases) is retrieved as OpenAI\'s Model, owned_by alias:<catalog id>; an alias of a model outside the tier is the 404 its target gives', async (client) => {
      const alias = 'llama-3.1-8b-instruct';
      const [mineOut, starterOut, targetOut] = await retrieveEach(client, [['acme', alias], ['initech', alias], ['initech', ALIASES[alias]]]);
      expect(mineOut).toMatchObject({ ok: true, model: { id: alias, object: 'model', created: 0, owned_by: `alias:${IDS.twoSlashes}` } });
      // huggingface is outside the starter tier: the alias answers what its target answers, naming the alias.
      const shape = (o: Retrieved) => ({ ok: o.ok, status: o.status, type: o.type, code: o.error?.code, param: o.error?.param, errorType: o.error?.type });
      expect(shape(starterOut)).toEqual({ ok: false, status: 404, type: 'NotFoundError', code: 'model_not_found', param: 'model', errorType: 'invalid_request_error' });
      expect(shape(starterOut)).toEqual(shape(targetOut));
      expect(starterOut.error.message).toBe(`The model '${alias}' does not exist or you do not have access to it; GET /v1/models lists yours`);
    });

    it('models.list() lists the caller\'s aliases, and a chat stream asked by alias names the catalog id served in every chunk (official Node client)', async () => {
      const sdk = (tenant: string) => new OpenAI({ baseURL: target.url, apiKey: tokens[tenant], maxRetries: 0, timeout: 20_000 });
      const aliasesOf = async (tenant: string) => (await sdk(tenant).models.list()).data.filter((m) => m.owned_by.startsWith('alias:'));
      expect(await aliasesOf('acme')).toEqual([
        { id: 'llama-3.1-8b-instruct', object: 'model', created: 0, owned_by: `alias:${IDS.twoSlashes}` },
        { id: 'chat', object: 'model', created: 0, owned_by: 'alias:openai-compatible/default' },
      ]);
      expect(await aliasesOf('initech')).toEqual([]); // neither target is in the starter tier
      const stream = await sdk('acme').chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'by alias' }], stream: true });
      const models = new Set<string>();
      let text = '';
      for await (const chunk of stream) {
        models.add(chunk.model);
        text += chunk.choices[0]?.delta.content ?? '';
      }
      expect(text).toContain('by alias');
      expect([...models]).toEqual(['openai-compatible/default']);
    });

    it('a raw (unencoded) id with slashes is found too, and the list holds chat and embedding models alike', async () => {
      const raw = await fetch(`${target.url}/models/${IDS.twoSlashes}`, { headers: { authorization: `Bearer ${tokens.acme}` } });
      expect(raw.status).toBe(200);
      expect(await raw.json()).toEqual(model(IDS.twoSlashes, 'huggingface'));
      const list = (await (await fetch(`${target.url}/models`, { headers: { authorization: `Bearer ${tokens.acme}` } })).json()) as { data: Array<{ id: string }> };
      expect(list.data.map((m) => m.id)).toEqual(expect.arrayContaining(mine.map(([id]) => id)));
      expect(list.data.map((m) => m.id)).not.toContain(IDS.othersFineTuned);
    });

    it('an encoded dot segment stays in the model id, as API Gateway passes it: GET /v1/models/%2e%2e/usage is 404 model_not_found, not the caller\'s usage', async () => {
      // node:http sends the path as written (fetch would resolve %2e%2e itself, as WHATWG URL parsing does)
      const prefix = new URL(target.url).pathname; // /v1, after the stage on the deployed path
      for (const segment of ['%2e%2e', '%2E%2E', '.%2e', '%2e']) {
        const out = await rawGet(target.url, `${prefix}/models/${segment}/usage`, tokens.acme);
        const id = `${decodeURIComponent(segment)}/usage`;
        expect(out, segment).toMatchObject({ status: 404, body: { error: { code: 'model_not_found', param: 'model' } } });
        expect(out.body.error.message, segment).toContain(`'${id}'`);
      }
    });
  });
}

/** GET `path` on `base`'s host with node:http, which sends the path as it is written (no dot-segment resolution). */
function rawGet(base: string, path: string, token: string): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    get({ hostname, port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) })).on('error', reject);
    }).on('error', reject);
  });
}
