import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does to the first write it forwards once armed: its answer is lost after the write was applied. */
export type WriteFault = 'drop' | 'stall';

/** The DynamoDB operations a fault may hit (X-Amz-Target's operation). */
const WRITES = new Set(['UpdateItem', 'TransactWriteItems', 'PutItem', 'DeleteItem', 'BatchWriteItem']);

export interface DynamoDbFaultProxy {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL. */
  endpoint: string;
  /** The next write forwarded is applied by moto, then its answer is lost: the connection closed (`drop`) or never answered (`stall`). */
  arm(fault: WriteFault): void;
  /** Each request forwarded or answered: its operation and ClientRequestToken (TransactWriteItems). */
  readonly seen: Array<{ operation: string; token?: string }>;
  /** Closes the server and every connection still open. */
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of moto's DynamoDB that does what moto does not: DynamoDB's
 * ClientRequestToken idempotency for TransactWriteItems (a token seen with the same parameters is
 * answered with the first request's answer, and not applied again; with other parameters
 * IdempotentParameterMismatch), kept here for the proxy's life (DynamoDB: 10 minutes after the first
 * request completes). Source: DynamoDB API reference, TransactWriteItems, ClientRequestToken.
 * It can lose the answer of one write that moto applied (arm), as a timeout or a reset connection
 * in AWS would: what the SDK's retry then sends again shows whether the write counts twice.
 */
export async function startDynamoDbFaultProxy(motoEndpoint: string): Promise<DynamoDbFaultProxy> {
  const target = new URL(motoEndpoint);
  const tokens = new Map<string, { digest: string; status: number; headers: Record<string, string>; body: Buffer }>();
  const sockets = new Set<Socket>();
  const seen: DynamoDbFaultProxy['seen'] = [];
  let armed: WriteFault | undefined;

  const forward = (req: IncomingMessage, body: Buffer) => new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
    const out = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: { 'content-type': String(res.headers['content-type'] ?? 'application/x-amz-json-1.0') }, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    out.on('error', reject);
    out.end(body);
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    const input = body.length ? (JSON.parse(body.toString()) as { ClientRequestToken?: string }) : {};
    const token = operation === 'TransactWriteItems' ? input.ClientRequestToken : undefined;
    seen.push({ operation, token });
    const send = (a: { status: number; headers: Record<string, string>; body: Buffer }) => res.writeHead(a.status, a.headers).end(a.body);
    let digest = '';
    if (token !== undefined) {
      const { ClientRequestToken: _, ...parameters } = input;
      digest = createHash('sha256').update(JSON.stringify(parameters)).digest('hex');
      const first = tokens.get(token);
      if (first && first.digest !== digest) {
        send({ status: 400, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException', message: 'IdempotentParameterMismatch' })) });
        return;
      }
      if (first) {
        send(first);
        return;
      }
    }
    const answer = await forward(req, body);
    if (token !== undefined && answer.status === 200) tokens.set(token, { digest, ...answer });
    const fault = WRITES.has(operation) ? armed : undefined;
    if (fault) armed = undefined;
    if (fault === 'drop') req.socket.destroy();
    else if (fault !== 'stall') send(answer); // stall: applied, never answered; the client's timeout ends it
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => res.writeHead(500).end(e.message));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arm: (fault) => { armed = fault; },
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => server.close(ok));
    },
  };
}
