/**
 * The waf engine's settlement ingestion Lambda (lib/settlement-ingest.ts schedules it): AWS WAF
 * settlement records → the receipt table. Configuration comes from the environment:
 * `X402_RECEIPT_TABLE`, `X402_WEB_ACL_ARN`, `X402_INGEST_SETTINGS` (JSON {@link IngestSettings}).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { DynamoSettlementStore } from './dynamo-settlement-store';
import { ingestSettlements, type IngestRunResult } from './ingest';
import { IngestEnvironment, type IngestSettings } from './settings';

/** CLOUDFRONT-scope WAF resources, monetization included, are served from us-east-1 only. */
export const WAF_CLOUDFRONT_REGION = 'us-east-1';

interface LambdaContext {
  getRemainingTimeInMillis?: () => number;
}

let clients: { waf: WAFV2Client; dynamo: DynamoDBClient } | undefined;

export async function handler(_event: unknown, context?: LambdaContext): Promise<IngestRunResult> {
  const tableName = required(IngestEnvironment.tableName);
  const webAclArn = required(IngestEnvironment.webAclArn);
  const settings = JSON.parse(required(IngestEnvironment.settings)) as IngestSettings;
  // Retries are ours (visible in the logs, with backoff): the SDK makes one attempt per call.
  clients ??= {
    waf: new WAFV2Client({ region: WAF_CLOUDFRONT_REGION, maxAttempts: 1 }),
    dynamo: new DynamoDBClient({ maxAttempts: 1 }),
  };
  return ingestSettlements(settings, webAclArn, {
    waf: clients.waf,
    store: new DynamoSettlementStore(clients.dynamo, tableName),
    clock: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: (line) => console.log(JSON.stringify(line)),
    random: Math.random,
    remainingMs: context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis!() : undefined,
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the SettlementIngest construct sets it; redeploy the stack`);
  return value;
}
