// CPU of one moto server's start and first requests, spawned (a fresh Python) and forked by the
// moto zygote (test/integration/support/moto-zygote.ts), measured on the server's own process
// (/proc/<pid>/stat utime + stime, read before it stops): `npx tsx test/bench/moto-start.ts [rounds]`.
// The first requests are one or two of each service the suites use most (STS, DynamoDB, S3, SQS,
// Organizations, KMS, CloudFormation with a small stack), the calls a test file's first test makes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { motoPython, motoServerEnvironment, startMoto, type MotoServer } from '../integration/support/moto-server.js';
import { MOTO_ZYGOTE_SOCKET, startMotoZygote } from '../integration/support/moto-zygote.js';
import { removeTempDirs, tempDir } from '../support/temp-dirs.js';

const rounds = Number(process.argv[2] ?? 3);

/** utime + stime of `pid` in seconds (Linux USER_HZ 100). */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function firstRequests(moto: MotoServer): Promise<void> {
  const config = { endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  await new STSClient(config).send(new GetCallerIdentityCommand({}));
  const ddb = new DynamoDBClient(config);
  await ddb.send(new CreateTableCommand({ TableName: 't', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
  await ddb.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'a' } } }));
  const s3 = new S3Client(config);
  await s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x' }));
  await new SQSClient(config).send(new CreateQueueCommand({ QueueName: 'q' }));
  await new OrganizationsClient(config).send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  await new KMSClient(config).send(new CreateKeyCommand({}));
  const template = { Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'stack-q' } } } };
  await new CloudFormationClient(config).send(new CreateStackCommand({ StackName: 's', TemplateBody: JSON.stringify(template) }));
}

async function measure(label: string): Promise<void> {
  const starts: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const moto = await startMoto({ serial: true, env: { MOTO_EC2_LOAD_DEFAULT_AMIS: 'false' } });
    starts.push(cpuOf(moto.pid));
    await firstRequests(moto);
    totals.push(cpuOf(moto.pid));
    await moto.stop();
  }
  const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
  console.log(`${label}: CPU s per server (mean of ${rounds}): started ${mean(starts)}, after the first requests ${mean(totals)}  [${totals.join(', ')}]`);
}

process.env.MOTO_ZYGOTE = 'off';
await measure('spawned');
delete process.env.MOTO_ZYGOTE;
const zygote = await startMotoZygote(motoPython(), join(tempDir('moto-start-bench-'), 'z.sock'), motoServerEnvironment());
process.env[MOTO_ZYGOTE_SOCKET] = zygote.socketPath;
await measure('forked ');
console.log(`zygote (once per run): ${cpuOf(zygote.pid).toFixed(2)} CPU s`);
await zygote.stop();
removeTempDirs();
