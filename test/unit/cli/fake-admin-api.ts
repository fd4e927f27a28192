import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll } from 'vitest';

/** What the fake admin API answers a request: its HTTP status and JSON body, and more response headers (an `etag`). */
export interface AdminAnswer { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> }

/** The fake admin API of {@link fakeAdminApi}. */
export interface FakeAdminApi {
  /** `METHOD /url` of each request, in order (the test clears it with `calls.length = 0`). */
  readonly calls: string[];
  /** Its base URL, `http://127.0.0.1:<port>/v1` (known once the file's beforeAll has run). */
  readonly url: string;
}

/**
 * The admin API as the CLI meets it, served on loopback for the test file (started in a beforeAll, closed in an
 * afterAll): each request is recorded in `calls` and answered with `answer(req)`, asked when the request arrives.
 */
export function fakeAdminApi(answer: (req: IncomingMessage) => AdminAnswer): FakeAdminApi {
  const calls: string[] = [];
  let server: Server;
  let url: string | undefined;
  beforeAll(async () => {
    server = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      req.resume();
      const a = answer(req);
      req.on('end', () => res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(JSON.stringify(a.body)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  return {
    calls,
    get url() {
      if (url === undefined) throw new Error('fakeAdminApi: url read before the beforeAll that starts the server');
      return url;
    },
  };
}
