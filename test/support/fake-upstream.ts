import { createServer, type Server } from 'node:http';

/**
 * A minimal OpenAI-compatible upstream on loopback: echoes the last user message, reports usage,
 * streams SSE with a final usage chunk, and fails on demand (status, count) per model.
 */
export class FakeUpstream {
  readonly requests: Array<Record<string, any>> = [];
  readonly failures = new Map<string, { status: number; times: number }>();
  delayMs = 0;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        if (req.url?.endsWith('/models')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'default', object: 'model' }] }));
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        this.requests.push(body);
        const failure = this.failures.get(body.model);
        if (failure && failure.times > 0) {
          failure.times -= 1;
          return void res.writeHead(failure.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'injected failure', type: 'server_error' } }));
        }
        if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
        const last = [...(body.messages ?? [])].reverse().find((m: any) => m.role === 'user');
        const text = `echo: ${last?.content ?? ''}`;
        const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
        const base = { id: 'up-1', created: 1, model: body.model };
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (const piece of text.match(/.{1,6}/g) ?? []) res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
          return void res.end('data: [DONE]\n\n');
        }
        const payload = JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }).end(payload);
      });
    });
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
