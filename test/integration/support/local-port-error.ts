// A module of its own (re-exported by local-platform.ts), so that test/demo/local-platform-server.ts can refuse a taken
// --port before it imports the harness, the Lambda handlers and the AWS SDK (~2 s of CPU through tsx).

/** The admin API's port could not be bound on 127.0.0.1: `code` is Node's (EADDRINUSE: taken; EACCES: below 1024 without the privilege). */
export class LocalPortError extends Error {
  readonly code: string | undefined;
  constructor(readonly port: number, cause: NodeJS.ErrnoException) {
    super(cause.code === 'EADDRINUSE' ? `port ${port} on 127.0.0.1 is taken (EADDRINUSE): another process listens there`
      : cause.code === 'EACCES' ? `port ${port} on 127.0.0.1 may not be bound by this user (EACCES)`
        : `port ${port} on 127.0.0.1 could not be bound: ${cause.message}`, { cause });
    this.name = 'LocalPortError';
    this.code = cause.code;
  }
}
