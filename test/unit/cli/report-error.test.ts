import { describe, expect, it } from 'vitest';
import { AdminApiError, gatewayRefusal, transportError } from '../../../lib/cli/admin-api-errors.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { reportError } from '../../../lib/cli/report-error.js';
import { ServeError } from '../../../lib/cli/serve-setup.js';
import { ConfigError } from '../../../lib/config/load-config.js';

describe('reportError: what every tessera command prints when it fails', () => {
  it('a CliError: error: <message>, its exit code, no stack', () => {
    expect(reportError(new CliError('--x 5: expected a word'), false)).toEqual({ text: 'error: --x 5: expected a word\n', exitCode: 2 });
    expect(reportError(new CliError('port busy', 1), false).exitCode).toBe(1);
  });

  it('a ServeError keeps its label, an AdminApiError its code and field', () => {
    expect(reportError(new ServeError('--port 1: busy', 1), false)).toEqual({ text: 'tessera serve: --port 1: busy\n', exitCode: 1 });
    expect(reportError(new AdminApiError(409, 'tenant "acme" is SUSPENDED', 'invalid_status', 'status'), false).text).toBe('error: tenant "acme" is SUSPENDED (invalid_status, field status)\n');
  });

  it('a ConfigError: its list and the fix, exit 2', () => {
    const r = reportError(new ConfigError('bad.yaml', ['bad.yaml: homeRegoin: unknown key (did you mean homeRegion?)']), false);
    expect(r).toEqual({ text: 'error: Invalid Tessera config (bad.yaml):\n  - bad.yaml: homeRegoin: unknown key (did you mean homeRegion?)\n  fix the config file named above (or leave out --config to use the embedded default)\n', exitCode: 2 });
  });

  it('anything else: its first line and the --debug hint, exit 1; --debug adds the stacks, the cause\'s too', () => {
    expect(reportError(new TypeError('x is undefined\nmore'), false)).toEqual({ text: 'error: x is undefined (--debug prints the stack trace)\n', exitCode: 1 });
    expect(reportError('a string', false).text).toBe('error: a string (--debug prints the stack trace)\n');
    const debug = reportError(new ServeError('wrapped', 1, { cause: new RangeError('inner') }), true).text;
    expect(debug).toMatch(/^tessera serve: wrapped\nServeError: wrapped\n {4}at /);
    expect(debug).toMatch(/RangeError: inner\n {4}at /);
  });
});

describe('admin API failures', () => {
  const fetchFailed = (code: string, message = code) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) });

  it.each([
    ['EAI_AGAIN', /DNS cannot resolve admin\.example \(EAI_AGAIN\)/],
    ['ECONNRESET', /the connection to admin\.example failed \(ECONNRESET\)/],
    ['UND_ERR_CONNECT_TIMEOUT', /the connection to admin\.example failed \(UND_ERR_CONNECT_TIMEOUT\)/],
    ['CERT_HAS_EXPIRED', /TLS failed, the server's certificate is not trusted for admin\.example \(CERT_HAS_EXPIRED\)/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /TLS failed.*\(SELF_SIGNED_CERT_IN_CHAIN\).*NODE_EXTRA_CA_CERTS/],
  ])('%s', (code, pattern) => {
    const e = transportError(fetchFailed(code), 'https://admin.example/prod');
    expect(e.message).toMatch(pattern);
    expect(e.message).toMatch(/^cannot reach the admin API at https:\/\/admin\.example\/prod: /);
    expect(e.exitCode).toBe(1);
  });

  it('an AggregateError (one error per address) is read through', () => {
    const aggregate = Object.assign(new TypeError('fetch failed'), { cause: new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' })]) });
    expect(transportError(aggregate, 'http://localhost:1').message).toMatch(/\(ECONNREFUSED\)/);
  });

  it('API Gateway\'s refusals: IAM, a wrong URL, the signature, the credentials; none for the handler\'s own errors', () => {
    const url = 'https://abc.execute-api.us-east-1.amazonaws.com/prod';
    expect(gatewayRefusal(403, { Message: 'User: arn:aws:iam::1:user/x is not authorized to perform: execute-api:Invoke on resource: arn' }, null, url, 'us-east-1')?.message).toMatch(/TesseraPlatformAdminAccess/);
    expect(gatewayRefusal(403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException', url, 'us-east-1')?.exitCode).toBe(2);
    expect(gatewayRefusal(403, { message: 'Credential should be scoped to a valid region. ' }, 'InvalidSignatureException', url, 'eu-west-1')?.message)
      .toMatch(/sign for the API's region \(--region \/ AWS_REGION, now eu-west-1/);
    expect(gatewayRefusal(403, { message: 'The security token included in the request is expired' }, 'ExpiredTokenException:http://internal', url, 'us-east-1')?.message)
      .toMatch(/refused your AWS credentials \(The security token included in the request is expired\): refresh them/);
    expect(gatewayRefusal(409, { message: 'conflict' }, null, url, 'us-east-1')).toBeUndefined();
    expect(gatewayRefusal(403, { message: 'tenant admins only' }, null, url, 'us-east-1')).toBeUndefined();
  });
});
