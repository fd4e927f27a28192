// Preloaded (`node --import`) into the child processes of test/infra/shared-lambda-build.test.ts
// that import a built streaming handler: the Lambda Node.js runtime provides `awslambda` (with
// `streamifyResponse` and `HttpResponseStream`) as a global, and the router's module reads it at
// import. A file of its own, not code inside the test file: the global is the child's, never the
// test worker's, and the shared-worker classifier (test/support/shared-worker-files.ts) reads the
// test file's source, where an assignment to a global would keep it out of a shared worker.
globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };
