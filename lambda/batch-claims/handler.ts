/**
 * The scheduled batch-settlement claims Lambda (lib/batch-claims.ts deploys it, a regional
 * function): configuration from the environment, `X402_RECEIPT_TABLE` and
 * `X402_BATCH_CLAIMS_SETTINGS` (JSON {@link BatchClaimsSettings}). See ./run.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HTTPFacilitatorClient } from '@x402/core/http';
import type { FacilitatorPort } from '../core/ports';
import { DynamoChannelStore } from '../edge/dynamo-channel-store';
import { facilitatorAuth } from '../edge/facilitator-auth';
import { channelChainReader } from './chain-state';
import { runBatchClaims, type BatchClaimsRunResult } from './run';
import { BatchClaimsEnvironment, type BatchClaimsSettings } from './settings';

let dynamo: DynamoDBClient | undefined;

export async function handler(): Promise<BatchClaimsRunResult> {
  const tableName = required(BatchClaimsEnvironment.tableName);
  const settings = JSON.parse(required(BatchClaimsEnvironment.settings)) as BatchClaimsSettings;
  // A failed call fails the run (nothing unconfirmed is recorded); the next scheduled run retries.
  dynamo ??= new DynamoDBClient({ maxAttempts: 2 });
  const createAuthHeaders = facilitatorAuth({ url: settings.facilitator.url, auth: settings.facilitator.auth });
  const http = new HTTPFacilitatorClient({ url: settings.facilitator.url, timeoutMs: settings.facilitator.timeoutMs, ...(createAuthHeaders ? { createAuthHeaders } : {}) });
  const facilitator: FacilitatorPort = { verify: (p, r) => http.verify(p, r), settle: (p, r) => http.settle(p, r) };
  return runBatchClaims(settings, {
    store: new DynamoChannelStore(dynamo, tableName),
    facilitator,
    readChain: channelChainReader(settings.chainRpcUrl, settings.facilitator.timeoutMs),
    clock: Date.now,
    log: (line) => console.log(JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))),
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the BatchClaims construct sets it; redeploy the stack`);
  return value;
}
