import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localKeyLookup } from '../../../lambdas/inference/local-provider-keys.js';
import { checkProviderKeys, readProviderKeysFile } from '../../../lib/cli/serve-provider-keys.js';
import { tesseraProgram } from '../../../lib/cli/program.js';
import { providerRoutes } from '../../../lib/cli/serve-setup.js';
import { configWith } from '../../support/config-with.js';
import { tempDir } from '../../support/temp-dirs.js';

const dir = tempDir('serve-provider-keys-');
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const price = { inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100 };
/** Two OpenAI deployments of one model, each with its own secret (the config of a user with two OpenAI keys), and a model on the provider's secret. */
const twoKeys = () => configWith({
  gateway: {
    models: [
      { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', ...price, deployments: [
        { name: 'us', baseUrl: 'https://us.example.test/v1', apiKeySecretId: 'tessera/providers/openai-us' },
        { name: 'eu', baseUrl: 'https://eu.example.test/v1', apiKeySecretId: 'tessera/providers/openai-eu' },
      ] },
      { id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini', ...price },
    ],
  },
});
const US = 'tessera/providers/openai-us';
const EU = 'tessera/providers/openai-eu';
const PROVIDER = 'tessera/providers/openai';

// s43f: serve called every upstream with its one --upstream-key, whatever a deployment's apiKeySecretId said.
describe('tessera serve: each deployment\'s key by its secret name (--provider-keys)', () => {
  it('the lookup answers the deployment\'s own secret\'s key, else the provider\'s, else --upstream-key', async () => {
    const lookup = localKeyLookup(twoKeys(), { bySecret: { [US]: 'sk-us', [EU]: 'sk-eu', [PROVIDER]: 'sk-provider' }, upstreamKey: 'sk-flag' });
    expect(await lookup('openai', 'acme', { platformSecretId: US })).toBe('sk-us');
    expect(await lookup('openai', 'acme', { platformSecretId: EU })).toBe('sk-eu');
    expect(await lookup('openai', 'acme', {})).toBe('sk-provider');
    expect(await localKeyLookup(twoKeys(), { bySecret: { [US]: 'sk-us' }, upstreamKey: 'sk-flag' })('openai', 'acme')).toBe('sk-flag');
    expect(await localKeyLookup(twoKeys(), {})('openai', 'acme', { platformSecretId: US })).toBe('local');
  });

  it('a start without a deployment\'s key is refused, naming the model, the deployment, the secret and the fix; --upstream-key stands for the provider\'s secret only', () => {
    const served = ['openai'];
    const refusal = () => {
      try {
        checkProviderKeys(twoKeys(), { served, upstreamKey: 'sk-flag', keys: { [US]: 'sk-us' }, file: 'keys.json' });
      } catch (e) {
        return e as Error & { exitCode: number };
      }
      throw new Error('not refused');
    };
    const e = refusal();
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('gateway.models[0] openai/gpt-4o-mini deployment "eu" reads its key from tessera/providers/openai-eu (its apiKeySecretId), which serve has no key for: add "tessera/providers/openai-eu": "<key>" to --provider-keys keys.json');
    expect(e.message).not.toContain('deployment "us"');
    expect(e.message).not.toContain('gpt-5.4-mini'); // the provider's secret: --upstream-key
    // Without the flag the provider's secret is missing too; without a file the fix says to give one.
    expect(() => checkProviderKeys(twoKeys(), { served, keys: { [US]: 'sk-us', [EU]: 'sk-eu' }, file: 'keys.json' }))
      .toThrow('gateway.models[1] openai/gpt-5.4-mini reads its key from tessera/providers/openai (gateway.providers.openai.apiKeySecretId), which serve has no key for: add "tessera/providers/openai": "<key>" to --provider-keys keys.json (or --upstream-key)');
    expect(() => checkProviderKeys(twoKeys(), { served, upstreamKey: 'sk-flag' })).toThrow(/no key for 2 secrets[\s\S]*deployment "us" reads its key from tessera\/providers\/openai-us \(its apiKeySecretId\), which serve has no key for: give --provider-keys <file> with "tessera\/providers\/openai-us": "<key>"/);
    // Every secret keyed: the start goes on; a provider not served is not checked.
    expect(() => checkProviderKeys(twoKeys(), { served, upstreamKey: 'sk-flag', keys: { [US]: 'sk-us', [EU]: 'sk-eu' } })).not.toThrow();
    // Under --upstream a deployment with its own baseUrl is still called there (only the providers' endpoints are
    // rerouted): its secret needs its key; one without a baseUrl reaches the local server, which takes any.
    expect(() => checkProviderKeys(twoKeys(), { served, upstream: 'http://127.0.0.1:8000/v1' })).toThrow(/no key for 2 secrets[\s\S]*deployment "us"[\s\S]*deployment "eu"/);
    expect(() => checkProviderKeys(twoKeys(), { served, upstream: 'http://127.0.0.1:8000/v1', keys: { [US]: 'sk-us', [EU]: 'sk-eu' } })).not.toThrow();
    const local = configWith({ gateway: { models: [{ id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', ...price, deployments: [{ name: 'a', apiKeySecretId: US }, { name: 'b', apiKeySecretId: EU }] }] } });
    expect(() => checkProviderKeys(local, { served, upstream: 'http://127.0.0.1:8000/v1' })).not.toThrow();
    expect(() => checkProviderKeys(local, { served })).toThrow(/deployment "a"[\s\S]*deployment "b"/);
    expect(() => checkProviderKeys(twoKeys(), { served: [] })).not.toThrow();
  });

  // s43h: a file with "tessera/providers/openai-ue" was refused for lacking openai-eu, with no word of the name it gave.
  it('a missing secret near a name the file gives that nothing reads names it as a likely misspelling', () => {
    const refusal = (keys: Record<string, string>) => {
      try {
        checkProviderKeys(twoKeys(), { served: ['openai'], upstreamKey: 'sk-flag', keys, file: 'keys.json' });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refusal({ [US]: 'sk-us', 'tessera/providers/openai-ue': 'sk-eu' })).toContain('add "tessera/providers/openai-eu": "<key>" to --provider-keys keys.json; the file\'s "tessera/providers/openai-ue" is read by no provider or model: a misspelling of it?');
    // A name some model or provider reads is no misspelling, and no key is ever quoted.
    const named = refusal({ [US]: 'sk-us-value', 'tessera/providers/huggingface': 'sk-hf-value' });
    expect(named).not.toContain('misspelling');
    expect(named).not.toMatch(/sk-(us|hf)-value/);
  });

  it('a provider is served at the config\'s endpoint with the file\'s keys alone, and its start-up line names them', () => {
    const routes = providerRoutes(twoKeys(), { providerKeys: { [US]: 'sk-us', [EU]: 'sk-eu', [PROVIDER]: 'sk-provider' }, awsCredentials: false });
    expect(routes.served).toContain('openai');
    expect(routes.report.find((l) => l.startsWith('openai '))).toBe("openai (openai/gpt-4o-mini, openai/gpt-5.4-mini): sent to the config's endpoint https://api.openai.com/v1, openai/gpt-4o-mini deployment \"us\" at https://us.example.test/v1, openai/gpt-4o-mini deployment \"eu\" at https://eu.example.test/v1 with the keys of tessera/providers/openai-us, tessera/providers/openai-eu, tessera/providers/openai (--provider-keys)");
    expect(providerRoutes(twoKeys(), { awsCredentials: false }).served).not.toContain('openai');
  });

  // s43h: the line said "sent to the config's endpoint https://api.openai.com/v1" of a model whose every deployment has
  // its own baseUrl (two local servers), and "rerouted to --upstream" of deployments serve still calls at their baseUrl.
  it('the start-up line names each deployment\'s own baseUrl, where serve calls it, and no endpoint nothing is sent to', () => {
    const local = configWith({ gateway: { models: [{ id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', ...price, deployments: [
      { name: 'us', baseUrl: 'http://127.0.0.1:8001/v1', apiKeySecretId: US },
      { name: 'eu', baseUrl: 'http://127.0.0.1:8002/v1', apiKeySecretId: EU },
    ] }] } });
    const line = (options: { upstream?: string }) => providerRoutes(local, { providerKeys: { [US]: 'sk-us', [EU]: 'sk-eu' }, awsCredentials: false, ...options }).report.find((l) => l.startsWith('openai '));
    expect(line({})).toBe('openai (openai/gpt-4o-mini): sent to openai/gpt-4o-mini deployment "us" at http://127.0.0.1:8001/v1, openai/gpt-4o-mini deployment "eu" at http://127.0.0.1:8002/v1 with the keys of tessera/providers/openai-us, tessera/providers/openai-eu (--provider-keys)');
    expect(line({})).not.toContain('api.openai.com');
    expect(line({ upstream: 'http://127.0.0.1:8000/v1' })).toBe('openai (openai/gpt-4o-mini): rerouted to --upstream http://127.0.0.1:8000/v1 (no key sent; give --upstream-key if it needs one); openai/gpt-4o-mini deployment "us" at http://127.0.0.1:8001/v1, openai/gpt-4o-mini deployment "eu" at http://127.0.0.1:8002/v1: its own baseUrl, not --upstream');
  });

  // s43h: the help said "API key sent upstream", as before --provider-keys, though it no longer stands for a deployment's key.
  it('serve\'s help says which keys --upstream-key stands for', async () => {
    const help = (await tesseraProgram('serve')).commands[0]!.helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain("--upstream-key <key> API key sent upstream: the key of each provider's own secret (gateway.providers.<provider>.apiKeySecretId) that --provider-keys does not give, and of the --upstream server");
  });

  it('the file: one JSON object of secret names under tessera/providers/ and non-empty keys; anything else refused naming the file, never quoting a key', () => {
    expect(readProviderKeysFile(file('ok.json', JSON.stringify({ [US]: 'sk-us', [EU]: 'sk-eu' })))).toEqual({ [US]: 'sk-us', [EU]: 'sk-eu' });
    const refused: Array<[string, RegExp]> = [
      ['{"tessera/providers/openai": "sk-secret-value",', /not JSON/],
      ['sk-secret-value', /not JSON/], // V8's message would quote it: "Unexpected token 's', "sk-secret-value" is not valid JSON"
      ['["sk-secret-value"]', /expected one JSON object .* got an array/],
      ['{"openai": "sk-secret-value"}', /"openai" is not a platform secret name \(tessera\/providers\/…/],
      ['{"tessera/providers/openai": ""}', /the key of tessera\/providers\/openai must be a non-empty string \(got an empty one\)/],
      ['{"tessera/providers/openai": 42}', /must be a non-empty string \(got number\)/],
    ];
    for (const [i, [text, message]] of refused.entries()) {
      const path = file(`bad-${i}.json`, text);
      let e: Error | undefined;
      try {
        readProviderKeysFile(path);
      } catch (err) {
        e = err as Error;
      }
      expect(e?.message).toMatch(message);
      expect(e?.message).toContain(`--provider-keys ${path}: `);
      expect(e?.message).not.toContain('sk-secret-value');
    }
    expect(() => readProviderKeysFile(join(dir, 'absent.json'))).toThrow(/cannot read it \(ENOENT\)/);
  });

  // s43i: a name outside tessera/providers/ was quoted (its first 100 characters): a key written in the name's place was printed.
  it('a key written in a name\'s place (name and key swapped, or a long name) is not quoted in the refusal; a short name is', () => {
    const key = 'sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEF';
    const refusalOf = (text: string) => {
      try {
        readProviderKeysFile(file('named.json', text));
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    const swapped = refusalOf(JSON.stringify({ [key]: PROVIDER }));
    expect(swapped).toContain('the name given the value tessera/providers/openai (not quoted: a key written in the name\'s place? write {"tessera/providers/openai": "<key>"}) is not a platform secret name');
    const long = refusalOf(JSON.stringify({ [key]: 'sk-other' }));
    expect(long).toContain(`a name of ${key.length} characters (not quoted: it may be a key) is not a platform secret name`);
    for (const message of [swapped, long]) expect(message).not.toContain(key.slice(0, 12));
    expect(refusalOf('{"providers/openai-eu": "sk-x"}')).toContain('"providers/openai-eu" is not a platform secret name');
    expect(refusalOf('{"__proto__": "sk-x"}')).toContain('"__proto__" is not a platform secret name');
  });

  it('a file that never ends (a device) is refused past 1 MiB without reading it whole; a directory is unreadable', () => {
    expect(() => readProviderKeysFile('/dev/zero')).toThrow('--provider-keys /dev/zero: more than 1048576 bytes, more than a keys file holds');
    expect(() => readProviderKeysFile(dir)).toThrow(/cannot read it \(EISDIR\)/);
    expect(() => readProviderKeysFile(file('big.json', `{"${PROVIDER}": "${'k'.repeat(1024 * 1024)}"}`))).toThrow(/more than 1048576 bytes/);
  });
});
