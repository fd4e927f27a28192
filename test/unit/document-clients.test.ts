import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { clientWith, platformClient } from '../../lambdas/shared/aws-clients.js';
import { documentClientWith, DROP_UNDEFINED, platformDocumentClient } from '../../lambdas/shared/document-clients.js';

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY ??= 'secret';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };
// lib-dynamodb drops a top-level attribute whose value is undefined whatever the options; a nested
// one is refused unless removeUndefinedValues (a job's optional field inside a map, say).
const ITEM = { pk: 'tenant#acme', detail: { note: undefined, size: 1 } };
const DROPPED = { pk: { S: 'tenant#acme' }, detail: { M: { size: { N: '1' } } } };

const undo: Array<() => void> = [];
afterEach(() => undo.splice(0).forEach((f) => f()));

/**
 * Sends a Put of ITEM through `doc` without a network: a build-step middleware (after lib-dynamodb
 * marshalled the item with the client's options) records the marshalled item and answers.
 */
async function put(doc: DynamoDBDocumentClient): Promise<unknown> {
  let sent: unknown;
  const name = `capture-${Math.random()}`;
  doc.middlewareStack.add(() => async (args: { input: unknown }) => {
    sent = (args.input as { Item: unknown }).Item;
    return { output: { $metadata: {} }, response: {} } as never;
  }, { step: 'build', name });
  undo.push(() => doc.middlewareStack.remove(name));
  await doc.send(new PutCommand({ TableName: 't', Item: ITEM }));
  return sent;
}

describe('document clients keep their own marshalling options', () => {
  it('reproduces lib-dynamodb\'s shared options: two document clients over one base marshal with the last one\'s', async () => {
    // GIVEN a document client that drops undefined values, then another over the same base without it
    const base = new DynamoDBClient({ credentials });
    const dropping = DynamoDBDocumentClient.from(base, DROP_UNDEFINED);
    DynamoDBDocumentClient.from(base);
    // THEN the first refuses its own item: why each document client needs a base of its own
    await expect(put(dropping)).rejects.toThrow(/removeUndefinedValues/);
  });

  it('platformDocumentClient: a client without options made later leaves the dropping one dropping', async () => {
    const dropping = platformDocumentClient(DROP_UNDEFINED);
    const plain = platformDocumentClient();
    // the one without options is over the class's shared client (of the gateway's `request` HTTP timeouts); the dropping one has its own
    expect(plain.config).toBe(platformClient(DynamoDBClient, '', { http: 'request' }).config);
    expect(dropping.config).not.toBe(plain.config);
    expect(await put(dropping)).toEqual(DROPPED);
    await expect(put(plain)).rejects.toThrow(/removeUndefinedValues/);
    // AND each options set is one cached client, also after a send (lib-dynamodb writes its defaults
    // into the options it was given; the caller's DROP_UNDEFINED stays as it was)
    expect(platformDocumentClient(DROP_UNDEFINED)).toBe(dropping);
    expect(platformDocumentClient()).toBe(plain);
    expect(DROP_UNDEFINED).toEqual({ marshallOptions: { removeUndefinedValues: true } });
  });

  it('documentClientWith: one session, two option sets, each marshals with its own', async () => {
    const session = { ...credentials };
    const dropping = documentClientWith(session, DROP_UNDEFINED);
    const plain = documentClientWith(session);
    expect(await put(dropping)).toEqual(DROPPED);
    await expect(put(plain)).rejects.toThrow(/removeUndefinedValues/);
    // made again for the same session and options: the same DynamoDB client underneath; without
    // options, the session's shared one
    expect(documentClientWith(session, DROP_UNDEFINED).config).toBe(dropping.config);
    expect(plain.config).toBe(clientWith(DynamoDBClient, session, { http: 'request' }).config);
  });

  it('keeps a function among the options (unmarshallOptions.wrapNumbers), and two functions apart', async () => {
    const big = (value: string) => BigInt(value);
    const other = (value: string) => Number(value);
    const wrapping = platformDocumentClient({ unmarshallOptions: { wrapNumbers: big } });
    expect(wrapping.config.translateConfig?.unmarshallOptions?.wrapNumbers).toBe(big);
    expect(platformDocumentClient({ unmarshallOptions: { wrapNumbers: big } })).toBe(wrapping);
    const otherClient = platformDocumentClient({ unmarshallOptions: { wrapNumbers: other } });
    expect(otherClient.config).not.toBe(wrapping.config);
    expect(wrapping.config.translateConfig?.unmarshallOptions?.wrapNumbers).toBe(big);
    const session = { ...credentials };
    expect(documentClientWith(session, { unmarshallOptions: { wrapNumbers: big } }).config.translateConfig?.unmarshallOptions?.wrapNumbers).toBe(big);
  });

  it('is where every document client of lambdas/ and lib/ comes from (none wraps a shared client itself)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && !path.endsWith(join('shared', 'document-clients.ts')) && /DynamoDBDocument(?:Client)?\.from\(|new DynamoDBDocument(?:Client)?\(/.test(readFileSync(path, 'utf8'))) offenders.push(path);
      }
    };
    for (const dir of ['lambdas', 'lib']) walk(fileURLToPath(new URL(`../../${dir}`, import.meta.url)));
    expect(offenders).toEqual([]);
  });
});
