import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { CreateOrganizationCommand, DescribeOrganizationCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoPython, motoServerEnvironment, startMoto, type MotoServer } from './support/moto-server.js';
import { forkMoto, MOTO_ZYGOTE_SOCKET, startMotoZygote, type MotoZygote } from './support/moto-zygote.js';
import { tempDir } from '../support/temp-dirs.js';

// The moto zygote (support/moto-zygote.ts, support/moto-python/zygote.py): a server it forks
// answers a request sequence over the usual services as a freshly spawned moto does, ids as random;
// and no server or zygote outlives what it belongs to (stop(), a worker killed with SIGKILL, the
// zygote's parent killed). The zygote that is killed is one the file starts under a stand-in for
// vitest's main process; the other tests use the run's zygote (or, in a run without one, the file's own).

let socketPath: string;
let own: MotoZygote | undefined;
let previous: Record<string, string | undefined> = {};
const started: ChildProcess[] = [];

beforeAll(async () => {
  previous = { [MOTO_ZYGOTE_SOCKET]: process.env[MOTO_ZYGOTE_SOCKET], MOTO_ZYGOTE: process.env.MOTO_ZYGOTE };
  // the run's zygote (nothing here kills it); a zygote of the file's own in a run without one (MOTO_ZYGOTE=off)
  const runs = process.env[MOTO_ZYGOTE_SOCKET];
  socketPath = runs && process.env.MOTO_ZYGOTE !== 'off' ? runs : (own = await startMotoZygote(motoPython(), join(tempDir('moto-zygote-test-'), 'z.sock'), motoServerEnvironment())).socketPath;
  process.env[MOTO_ZYGOTE_SOCKET] = socketPath;
  delete process.env.MOTO_ZYGOTE;
}, 60_000);
afterAll(async () => {
  for (const [key, value] of Object.entries(previous)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  for (const child of started) child.kill('SIGKILL');
  await own?.stop();
});

/** Whether `pid` runs: exists and is no zombie (an exited child its parent has not reaped yet). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Whether something accepts connections on 127.0.0.1:`port`. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** Resolves once `pid` is gone and `port` (if given) refuses; fails after 15 s. */
async function gone(pid: number, port?: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (alive(pid) || (port !== undefined && (await listening(port)))) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} (port ${port}) still there`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A server spawned as a fresh Python (MOTO_ZYGOTE=off for the call). */
async function spawnedMoto(options: Parameters<typeof startMoto>[0] = {}): Promise<MotoServer> {
  process.env.MOTO_ZYGOTE = 'off';
  try {
    return await startMoto(options);
  } finally {
    delete process.env.MOTO_ZYGOTE;
  }
}

/** A zygote under a stand-in for vitest's main process (a Node process running startMotoZygote), and a server it forked. */
async function zygoteUnderFakeMain(): Promise<{ main: ChildProcess; zygotePid: number; server: { pid: number; port: number } }> {
  const socketPath = join(tempDir('moto-zygote-parent-'), 'z.sock');
  // Node runs moto-zygote.ts itself (type stripping: on by default from Node 22.18, a flag before),
  // with a resolve hook for the project's `.js` specifiers of `.ts` files (what tsc and vitest map):
  // no tsx loader to start in the stand-in.
  const stripTypes = (process.features as { typescript?: string | false }).typescript ? [] : ['--experimental-strip-types'];
  const main = spawn(process.execPath, [...stripTypes, '--input-type=module', '-e', `
    const { registerHooks } = await import('node:module');
    registerHooks({ resolve: (specifier, context, next) => {
      try { return next(specifier, context); } catch (error) {
        if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
        throw error;
      }
    } });
    const { startMotoZygote } = await import(${JSON.stringify(join(import.meta.dirname, 'support', 'moto-zygote.ts'))});
    const z = await startMotoZygote(process.argv[1], process.argv[2], JSON.parse(process.argv[3]));
    console.log(JSON.stringify({ pid: z.pid }));
    setInterval(() => {}, 1000);
  `, motoPython(), socketPath, JSON.stringify(motoServerEnvironment())], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(main);
  const { pid: zygotePid } = await new Promise<{ pid: number }>((resolve) => main.stdout!.once('data', (d) => resolve(JSON.parse(String(d)))));
  const server = await forkMoto(socketPath, { serial: true, env: motoServerEnvironment() });
  if (!('port' in server)) throw new Error(server.spawn);
  expect(alive(zygotePid) && (await listening(server.port))).toBe(true);
  return { main, zygotePid, server };
}

/**
 * The same requests over the services the suites use most (DynamoDB, S3, SQS, STS, Organizations,
 * KMS, EC2, CloudFormation creating resources of other services), then moto's whole state
 * (/moto-api/data.json: every model instance), with what differs between any two servers masked: the port, dates and
 * times, and generated ids (runs of 8+ letters and digits holding a digit, uuids, Organizations and IAM ids).
 */
async function exercise(moto: MotoServer): Promise<unknown[]> {
  const config = { endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const ddb = new DynamoDBClient(config);
  const s3 = new S3Client(config);
  const sqs = new SQSClient(config);
  const orgs = new OrganizationsClient(config);
  const kms = new KMSClient(config);
  const cfn = new CloudFormationClient(config);
  const out: unknown[] = [];
  const record = (x: { $metadata?: unknown }) => {
    const { $metadata: _m, ...rest } = x;
    out.push(rest);
  };
  record(await new STSClient(config).send(new GetCallerIdentityCommand({})));
  record(await ddb.send(new CreateTableCommand({ TableName: 't', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] })));
  record(await ddb.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'a' }, n: { N: '1' } }, ReturnValues: 'ALL_OLD' })));
  record(await ddb.send(new ScanCommand({ TableName: 't' })));
  record(await ddb.send(new DescribeTableCommand({ TableName: 't' })));
  record(await s3.send(new CreateBucketCommand({ Bucket: 'bkt' })));
  record(await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'body' })));
  record(await s3.send(new ListObjectsV2Command({ Bucket: 'bkt' })));
  const object = await s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k' }));
  out.push(await object.Body!.transformToString(), object.ETag);
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'q' }));
  record(queue);
  record(await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['All'] })));
  record(await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' })));
  record(await orgs.send(new DescribeOrganizationCommand({})));
  record(await orgs.send(new ListRootsCommand({})));
  record(await kms.send(new CreateKeyCommand({ Description: 'k' })));
  record(await kms.send(new ListAliasesCommand({})));
  record(await new EC2Client(config).send(new DescribeVpcsCommand({})));
  const template = {
    Resources: {
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'stack-q' } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'stack-t', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] } },
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'stack-b' } },
    },
  };
  record(await cfn.send(new CreateStackCommand({ StackName: 's', TemplateBody: JSON.stringify(template) })));
  record(await cfn.send(new DescribeStacksCommand({ StackName: 's' })));
  record(await cfn.send(new DescribeStackResourcesCommand({ StackName: 's' })));
  // moto's dashboard lists every model class imported so far, most with no instance: a fresh server
  // lists the classes of the modules its requests imported, a forked one also those the zygote
  // imported. The instances are the state; the empty lists are left out.
  const state = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as Record<string, Record<string, unknown[]>>;
  out.push(
    Object.fromEntries(
      Object.entries(state)
        .map(([service, models]) => [service, Object.fromEntries(Object.entries(models).filter(([, instances]) => instances.length > 0))] as const)
        .filter(([, models]) => Object.keys(models).length > 0),
    ),
  );
  const port = new URL(moto.endpoint).port;
  const mask = (v: unknown): unknown => {
    if (v instanceof Date) return 'DATE';
    if (typeof v === 'number') return v > 1e9 ? 'EPOCH' : v;
    if (typeof v === 'string') {
      return v
        .replaceAll(port, 'PORT')
        .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?/g, 'DATE')
        .replace(/\b\d{10}(\.\d+)?\b/g, 'EPOCH')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'UUID')
        .replace(/\b[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\b/g, 'DATE')
        .replace(/\b(o|r|ou|car)-[a-z0-9]+(-[a-z0-9]+)?\b/g, '$1-ID') // Organizations ids: may have no digit, or be short
        .replace(/\b(AROA|AIDA|ANPA|AGPA|AIPA|ASIA|AKIA)[A-Z0-9]{12,}\b/g, 'ID') // IAM unique ids
        .replace(/(?=[A-Za-z0-9]*\d)(?<![A-Za-z0-9])[A-Za-z0-9]{8,}(?![A-Za-z0-9])/g, 'ID');
    }
    if (Array.isArray(v)) return v.map(mask);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [mask(k) as string, mask(x)]));
    return v;
  };
  return JSON.parse(JSON.stringify(mask(out))) as unknown[]; // plain JSON values, nothing else compared
}

describe('moto zygote: a forked server is a fresh server', () => {
  it('answers the same request sequence as a spawned moto, serial and threaded', async () => {
    for (const serial of [true, false]) {
      // GIVEN a spawned server and a forked one
      const env = { MOTO_EC2_LOAD_DEFAULT_AMIS: 'false' }; // moto's 1,300 public AMIs are no part of the comparison
      const spawned = await spawnedMoto({ serial, env });
      const forked = await startMoto({ serial, env });
      try {
        expect([spawned.via, forked.via]).toEqual(['spawn', 'zygote']);
        // WHEN both answer the same requests THEN the answers and the whole state are the same
        const [a, b] = [await exercise(spawned), await exercise(forked)];
        expect(b).toEqual(a);
        expect(JSON.stringify(b)).toContain('stack-t'); // the stack's table is in the state compared
      } finally {
        await Promise.all([spawned.stop(), forked.stop()]);
      }
    }
  }, 180_000);

  it('gives each forked server its own random source: two servers make different organization ids', async () => {
    const servers = await Promise.all([startMoto(), startMoto()]);
    try {
      const ids = await Promise.all(
        servers.map(async (moto) => {
          const orgs = new OrganizationsClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
          return (await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }))).Organization!.Id;
        }),
      );
      expect(servers.map((s) => s.via)).toEqual(['zygote', 'zygote']);
      expect(ids[0]).toMatch(/^o-[a-z0-9]{10}$/);
      expect(ids[1]).not.toBe(ids[0]);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 60_000);

  it('spawns when a variable moto reads at import time differs from the zygote\'s; a forked server has the variables moto reads later', async () => {
    // moto.settings reads MOTO_ACM_VALIDATION_WAIT when imported; MOTO_EC2_LOAD_DEFAULT_AMIS when an account's EC2 starts
    const importTime = await startMoto({ env: { MOTO_ACM_VALIDATION_WAIT: '5' } });
    const requestTime = await startMoto({ env: { MOTO_EC2_LOAD_DEFAULT_AMIS: 'false' } });
    try {
      expect([importTime.via, requestTime.via]).toEqual(['spawn', 'zygote']);
      const config = (m: MotoServer) => ({ endpoint: m.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
      expect((await new STSClient(config(importTime)).send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
      // the zygote's own environment has no MOTO_EC2_LOAD_DEFAULT_AMIS: moto's default catalog of public AMIs
      expect((await new EC2Client(config(requestTime)).send(new DescribeImagesCommand({}))).Images).toEqual([]);
    } finally {
      await Promise.all([importTime.stop(), requestTime.stop()]);
    }
  }, 90_000);
});

describe('moto servers keep connections open (support/moto-python/tessera_moto_keepalive.py)', () => {
  it('answer requests one after another on one connection, with bodies the server reads, does not read and gets chunked; serial: one request at a time over all connections, threaded: at once', async () => {
    const { Agent, request } = await import('node:http');
    for (const serial of [true, false]) {
      const moto = await startMoto({ serial });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const send = (method: string, path: string, body?: Buffer | Buffer[], headers: Record<string, string> = {}) =>
          new Promise<{ status: number; connection: string | undefined; reused: boolean; body: string }>((resolve, reject) => {
            const req = request(`${moto.endpoint}${path}`, { method, agent, headers }, (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (d: string) => (text += d));
              res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, reused: req.reusedSocket, body: text }));
            });
            req.on('error', reject);
            for (const part of Array.isArray(body) ? body : body ? [body] : []) req.write(part);
            req.end();
          });
        const s3 = { host: 's3.amazonaws.com', authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0' };
        const answers = [
          await send('GET', '/moto-api/'),
          await send('POST', '/moto-api/reset', Buffer.alloc(200_000, 'x'), { 'content-type': 'application/octet-stream' }), // a body moto never reads
          await send('PUT', '/bkt', undefined, s3),
          await send('PUT', '/bkt/k', [Buffer.from('chun'), Buffer.from('ked')], { ...s3, 'transfer-encoding': 'chunked' }),
          await send('GET', '/bkt/k', undefined, s3),
        ];
        expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
        expect(answers.at(-1)!.body).toBe('chunked');
        expect(answers.map((a) => a.connection)).toEqual(Array(5).fill(undefined)); // no "Connection: close"
        expect(answers.map((a) => a.reused)).toEqual([false, true, true, true, true]);
        // A request inside the server (its "100 Continue" is written under the serial lock) whose body
        // is half sent: a serial server answers no other connection until it ends, a threaded one does.
        const slow = request(`${moto.endpoint}/bkt/slow`, { method: 'PUT', headers: { ...s3, 'content-length': '10', expect: '100-continue' } });
        const slowAnswer = new Promise<number>((resolve, reject) => {
          slow.on('response', (res) => (res.resume(), res.on('end', () => resolve(res.statusCode!))));
          slow.on('error', reject);
        });
        let continues = 0;
        slow.on('continue', () => continues++);
        await new Promise<void>((resolve) => slow.once('continue', () => resolve()));
        slow.write('12345');
        const other = fetch(`${moto.endpoint}/moto-api/`).then((r) => r.status);
        if (serial) {
          expect(await Promise.race([other, new Promise((r) => setTimeout(() => r('waiting'), 500))])).toBe('waiting');
        } else {
          expect(await other).toBe(200);
        }
        slow.end('67890');
        expect(await slowAnswer).toBe(200);
        // one "100 Continue", the one written under the lock (http.server's own, before it, is not sent)
        expect(continues).toBe(1);
        expect(await other).toBe(200);
      } finally {
        agent.destroy();
        await moto.stop();
      }
    }
  }, 60_000);
  it('close the connection after a request whose Content-Length is not a plain decimal (serial): what follows it is not read as a request', async () => {
    const moto = await startMoto({ serial: true });
    try {
      // GIVEN a request with Content-Length -5 whose "body" is another request (hostile 8)
      const { port } = new URL(moto.endpoint);
      const received = await new Promise<string>((resolve, reject) => {
        const socket = createConnection(Number(port), '127.0.0.1');
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => (data += d));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
        socket.write('POST /moto-api/reset HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\nGET /moto-api/ HTTP/1.1\r\nHost: localhost\r\n\r\n');
      });
      // THEN one answer, then the connection ends (werkzeug's own server does the same)
      expect(received.match(/^HTTP\/1\.[01] \d{3}/gm)).toHaveLength(1);
    } finally {
      await moto.stop();
    }
  }, 60_000);
});

describe('moto servers\' garbage collector (zygote.py GC_THRESHOLD)', () => {
  it('runs at GC_THRESHOLD (20,000 allocations for a young collection), at CPython\'s 700 with TESSERA_MOTO_GC_THRESHOLD=off; TESSERA_MOTO_CPU_LOG gets each forked server\'s collections', async () => {
    // GIVEN two forked servers, one at CPython's thresholds, both logging their collector
    const log = join(tempDir('moto-gc-'), 'cpu.jsonl');
    const tuned = await startMoto({ serial: true, env: { TESSERA_MOTO_CPU_LOG: log } });
    const cpython = await startMoto({ serial: true, env: { TESSERA_MOTO_CPU_LOG: log, TESSERA_MOTO_GC_THRESHOLD: 'off' } });
    try {
      expect([tuned.via, cpython.via]).toEqual(['zygote', 'zygote']);
      // WHEN both answer the same requests (DynamoDB's backend, a table, items)
      for (const moto of [tuned, cpython]) {
        const ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
        await ddb.send(new CreateTableCommand({ TableName: 't', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
        for (let i = 0; i < 20; i++) await ddb.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: `k${i}` }, v: { S: 'x'.repeat(100) } } }));
        expect((await ddb.send(new ScanCommand({ TableName: 't' }))).Count).toBe(20);
      }
    } finally {
      await Promise.all([tuned.stop(), cpython.stop()]);
    }
    // THEN each logged its thresholds and collections when it stopped: far fewer young collections at 20,000
    const rows = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { motoPid: number; gcThreshold: number[]; gcCollections: number[]; gcSeconds: number; cpuSeconds: number });
    const of = (pid: number) => rows.find((r) => r.motoPid === pid)!;
    expect(of(tuned.pid).gcThreshold).toEqual([20_000, 10, 10]);
    expect(of(cpython.pid).gcThreshold).toEqual([700, 10, 10]);
    expect(of(cpython.pid).gcCollections[0]).toBeGreaterThan(0);
    expect(of(tuned.pid).gcCollections[0]).toBeLessThan(of(cpython.pid).gcCollections[0]);
    for (const pid of [tuned.pid, cpython.pid]) expect(of(pid).gcSeconds).toBeLessThanOrEqual(of(pid).cpuSeconds);
  }, 60_000);
});

describe('moto zygote: lifetimes', () => {
  it('stop() ends a forked server: its process is gone and its port refuses', async () => {
    const moto = await startMoto({ serial: true });
    const port = Number(new URL(moto.endpoint).port);
    expect(alive(moto.pid)).toBe(true);
    await moto.stop();
    expect(alive(moto.pid)).toBe(false);
    expect(await listening(port)).toBe(false);
  }, 60_000);

  it('a server dies with the worker that asked for it, when the worker is killed with SIGKILL', async () => {
    // GIVEN a process that asks the zygote for a server, as a test worker does, and holds the connection
    const worker = spawn(process.execPath, ['-e', `
      const s = require('node:net').createConnection(process.argv[1]);
      s.write(JSON.stringify({ serial: false, env: JSON.parse(process.argv[2]) }) + '\\n');
      s.on('data', (d) => process.stdout.write(d));
      setInterval(() => {}, 1000);
    `, socketPath, JSON.stringify(motoServerEnvironment())], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(worker);
    const answer = await new Promise<{ port: number; pid: number }>((resolve) => worker.stdout!.once('data', (d) => resolve(JSON.parse(String(d)))));
    expect(await listening(answer.port)).toBe(true);
    // WHEN the worker is killed THEN its server goes
    worker.kill('SIGKILL');
    await gone(answer.pid, answer.port);
  }, 60_000);

  it('the zygote dies with its parent, and its servers with it, when the parent is killed with SIGKILL', async () => {
    // GIVEN a zygote under a stand-in for vitest's main process, and a server it forked
    const { main, zygotePid, server } = await zygoteUnderFakeMain();
    // WHEN the parent is killed THEN the zygote goes (SIGKILL, PR_SET_PDEATHSIG), and its server with it
    main.kill('SIGKILL');
    await gone(zygotePid);
    await gone(server.pid, server.port);
  }, 120_000);
});
