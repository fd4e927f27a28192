// A stand-in for the AWS endpoints the gateway Lambda calls per request, in its own process, for the
// tenant-scoped credentials benchmark: STS AssumeRole (credentials valid an hour), DynamoDB (the
// registry record of every tenant, empty usage items, transactions and updates accepted), Secrets
// Manager (a provider key) and S3 PutObject (audit records). It answers at once: what is measured is
// the gateway's side. Usage: tsx test/bench/fake-aws-main.ts '<tenant record JSON>'
import { marshall } from '@aws-sdk/util-dynamodb';
import { createServer } from 'node:http';

const record = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
let sessions = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    const json = (o: unknown) => void res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(o));
    if (target.startsWith('DynamoDB_20120810.')) {
      const op = target.slice('DynamoDB_20120810.'.length);
      if (op === 'GetItem') {
        const input = JSON.parse(body) as { TableName: string; Key: Record<string, { S: string }> };
        if (input.TableName === 'tessera-tenants') return json({ Item: marshall({ ...record, tenantId: input.Key.tenantId.S }, { removeUndefinedValues: true }) });
        return json({});
      }
      return json({});
    }
    if (target === 'secretsmanager.GetSecretValue') return json({ ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:x', Name: 'x', SecretString: 'sk-bench' });
    if (body.includes('Action=AssumeRole')) {
      sessions += 1;
      const expiration = new Date(Date.now() + 3600_000).toISOString();
      return void res.writeHead(200, { 'content-type': 'text/xml' }).end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIABENCH${sessions}</AccessKeyId><SecretAccessKey>secret${sessions}</SecretAccessKey><SessionToken>token${sessions}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROABENCH:s</AssumedRoleId><Arn>arn:aws:sts::111111111111:assumed-role/tessera-tenant-data/s</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    }
    if (req.method === 'PUT') return void res.writeHead(200, { etag: '"e"' }).end();
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ __type: 'UnknownOperation', message: `${req.method} ${req.url} ${target}` }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${(server.address() as { port: number }).port}\n`));
