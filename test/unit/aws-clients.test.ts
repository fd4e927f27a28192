import { S3Client } from '@aws-sdk/client-s3';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { clientWith, registerClientPlugin, trackedClientCount } from '../../lambdas/shared/aws-clients.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

/** A turn of the event loop, then a full collection (WeakRef targets stay alive until the job that made them ends). */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
}

describe('lambdas/shared/aws-clients.ts keeps no client alive', () => {
  it('forgets the clients of finished calls (a warm Lambda makes one per assumed session and call), and still plugs those in use', async () => {
    const before = trackedClientCount();
    const held = clientWith(S3Client, credentials);
    // WHEN a thousand calls each make a client and drop it
    (() => {
      for (let i = 0; i < 1000; i++) clientWith(S3Client, credentials, { region: 'eu-west-1' });
    })();
    await collect();
    // THEN none of them is kept (the list used to hold every client and its credentials for the container's life)
    expect(trackedClientCount() - before).toBeLessThan(10);
    // AND a plugin registered now reaches the client still in use
    const plugged: unknown[] = [];
    const unregister = registerClientPlugin((c) => { plugged.push(c); });
    unregister();
    expect(plugged).toContain(held);
  });
});
