import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runTesseraProgram } from '../../../lib/cli/program.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * Found by a platform engineer trying the README (s22): `tessera tenants list --profile x` was refused (exit 2) while
 * `tessera dlq` and `doctor` take --profile. Every command group that signs admin API calls takes it now, and signs
 * with that profile's credentials; a command that takes none says to set AWS_PROFILE.
 */
let server: Server;
const seen: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  const dir = tempDir('tessera-profile');
  writeFileSync(join(dir, 'credentials'), '[ops]\naws_access_key_id = AKIAOPSPROFILE000001\naws_secret_access_key = secret\n');
  writeFileSync(join(dir, 'config'), '[profile ops]\nregion = us-east-1\n');
  server = createServer((req, res) => {
    seen.push(`${req.url} ${/Credential=([A-Z0-9]+)\//.exec(req.headers.authorization ?? '')?.[1]}`);
    res.setHeader('content-type', 'application/json');
    res.end(req.url?.startsWith('/admin/tenants/acme/keys') ? JSON.stringify({ data: [] }) : JSON.stringify({ tenants: [] }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  Object.assign(process.env, {
    TESSERA_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
});
afterAll(async () => {
  process.env = saved;
  await new Promise((ok) => server.close(ok));
});

describe('--profile', () => {
  it('tenants list --profile ops signs with the profile\'s credentials (without it, the default chain\'s)', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await runTesseraProgram(['tenants', 'list', '--profile', 'ops'])).toBe(0);
    expect(await runTesseraProgram(['tenants', 'list'])).toBe(0);
    vi.restoreAllMocks();
    expect(seen.map((s) => s.split(' ')[1])).toEqual(['AKIAOPSPROFILE000001', 'AKIAENVIRONMENT00001']);
  });

  it('a command without --profile says to set AWS_PROFILE', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    expect(await runTesseraProgram(['roles', '--profile', 'ops'])).toBe(2);
    vi.restoreAllMocks();
    expect(err.join('')).toMatch(/^error: unknown option '--profile'; this command takes no --profile: set AWS_PROFILE=<profile> for its AWS calls instead\n/);
  });
});
