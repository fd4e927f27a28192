import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { DynamoDBRecord } from 'aws-lambda';

/**
 * Reads a table's DynamoDB stream from moto (DynamoDB Streams API: DescribeStream,
 * GetShardIterator, GetRecords, JSON 1.0 protocol, SigV4 service `dynamodb`; the project has no
 * @aws-sdk/client-dynamodb-streams) and hands the records over as Lambda's event source mapping
 * does: in stream order, each with `eventSourceARN` (the stream's ARN) added, which the
 * DynamoDB Streams API itself does not return.
 */
export class StreamReader {
  private readonly signer: SignatureV4;
  /** The next iterator per shard, from TRIM_HORIZON on. */
  private readonly iterators = new Map<string, string>();

  /**
   * @param credentials those of the table's account (moto keeps resources per account, by access key)
   * @default the process's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
   */
  constructor(private readonly endpoint: string, readonly streamArn: string, credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
    const env = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test', sessionToken: process.env.AWS_SESSION_TOKEN || undefined };
    this.signer = new SignatureV4({ credentials: credentials ?? env, region: streamArn.split(':')[3] || 'us-east-1', service: 'dynamodb', sha256: Sha256 });
  }

  private async call<T>(operation: string, body: unknown): Promise<T> {
    const url = new URL(this.endpoint);
    const payload = JSON.stringify(body);
    const request = new HttpRequest({
      method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', body: payload,
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDBStreams_20120810.${operation}` },
    });
    const signed = (await this.signer.sign(request)) as HttpRequest;
    const res = await fetch(this.endpoint, { method: 'POST', headers: signed.headers as Record<string, string>, body: payload });
    const text = await res.text();
    if (!res.ok) throw new Error(`DynamoDB Streams ${operation} on ${this.streamArn}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** Every record written since the last call (the first call: since the stream began), in order. */
  async next(): Promise<DynamoDBRecord[]> {
    const described = await this.call<{ StreamDescription: { Shards: Array<{ ShardId: string }> } }>('DescribeStream', { StreamArn: this.streamArn });
    const records: DynamoDBRecord[] = [];
    for (const { ShardId } of described.StreamDescription.Shards) {
      let iterator = this.iterators.get(ShardId)
        ?? (await this.call<{ ShardIterator: string }>('GetShardIterator', { StreamArn: this.streamArn, ShardId, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator;
      for (;;) {
        const out = await this.call<{ Records: DynamoDBRecord[]; NextShardIterator?: string }>('GetRecords', { ShardIterator: iterator });
        records.push(...out.Records.map((r) => ({ ...r, eventSourceARN: this.streamArn })));
        if (!out.NextShardIterator) break;
        iterator = out.NextShardIterator;
        if (out.Records.length === 0) break;
      }
      this.iterators.set(ShardId, iterator);
    }
    return records;
  }
}
