/**
 * Metric names, defined once: the handlers emit them (CloudWatch Embedded Metric Format log lines,
 * no SDK call on the request path) and the dashboard construct graphs and alarms on them.
 */
export const METRICS_NAMESPACE = 'CdkX402';

export const Metrics = {
  paymentRequired: 'PaymentRequired',
  paymentsVerified: 'PaymentsVerified',
  paymentsRejected: 'PaymentsRejected',
  /** A payment, pass or sign-in of a payer on the deny-list, refused before any check (also in PaymentsRejected). */
  paymentsDenied: 'PaymentsDenied',
  paymentsSettled: 'PaymentsSettled',
  settlementsFailed: 'SettlementsFailed',
  paymentsReleased: 'PaymentsReleased',
  /** A settled payment delivered again (its first delivery was withheld or lost). */
  paymentsRedelivered: 'PaymentsRedelivered',
  /** A priced request reached origin-response without its viewer-request hand-off: withheld. */
  handoffMissing: 'PaymentHandoffMissing',
  revenueAtomic: 'RevenueAtomicUnits',
  /** A pass sold and issued (its payment is in PaymentsSettled and RevenueAtomicUnits too). */
  passesSold: 'PassesSold',
  /** A priced request opened by a valid pass (verified offline, nothing settled). */
  passRequests: 'PassRequests',
  /** `upto`: atomic units settled on metered routes (also in RevenueAtomicUnits) and their signed maximum. */
  meteredRevenueAtomic: 'MeteredRevenueAtomicUnits',
  meteredMaximumAtomic: 'MeteredMaximumAtomicUnits',
  /** `upto`: the origin reported more than the signed maximum; the maximum was charged. */
  usageCapped: 'UsageCapped',
  /** `upto`: a 2xx without a readable Settlement-Overrides header; the route's usageMissing was charged. */
  usageMissing: 'UsageMissing',
  /** A signed agent not trusted (forged, expired, unknown key or agent, directory unreachable...), by Reason: it pays as anyone. */
  agentSignaturesRefused: 'AgentSignaturesRefused',
  /** A priced request served free by a `free` price rule to a verified agent or verified bot category (a licensed partner). */
  agentFreeRequests: 'AgentFreeRequests',
  facilitatorErrors: 'FacilitatorErrors',
  receiptStoreErrors: 'ReceiptStoreErrors',
  verifierLatency: 'VerifierLatencyMs',
  settlementLatency: 'SettlementLatencyMs',
} as const;

/** Metrics of the waf engine's settlement ingestion (lambda/ingest), graphed by the dashboard too. */
export const IngestMetrics = {
  /** Settlement records written (created or updated) into the receipt table. */
  settlementRecordsIngested: 'SettlementRecordsIngested',
  /** Ingestion runs that failed (the checkpoint row keeps the last error). */
  ingestionErrors: 'IngestionErrors',
} as const;

/** Metrics of the scheduled batch-settlement claims (lambda/batch-claims). */
export const BatchClaimMetrics = {
  /** Channels claimed on chain in a run. */
  channelsClaimed: 'BatchChannelsClaimed',
  /** Atomic units a run's `settle` moved to payTo. */
  batchSettledAtomic: 'BatchSettledAtomicUnits',
  /** Runs that failed (nothing unconfirmed was recorded; the next run retries). */
  batchClaimErrors: 'BatchClaimErrors',
} as const;

export type MetricName =
  | (typeof Metrics)[keyof typeof Metrics]
  | (typeof IngestMetrics)[keyof typeof IngestMetrics]
  | (typeof BatchClaimMetrics)[keyof typeof BatchClaimMetrics];

/** Dimension sets the handlers emit; the dashboard queries the same ones. */
export const MetricDimensions = { route: 'Route', reason: 'Reason' } as const;

const UNITS: Partial<Record<MetricName, string>> = {
  [Metrics.verifierLatency]: 'Milliseconds',
  [Metrics.settlementLatency]: 'Milliseconds',
};

/** One EMF record: CloudWatch turns the log line into metrics, no API call needed. */
export function emfRecord(
  values: Partial<Record<MetricName, number>>,
  dimensions: Record<string, string>,
  timestampMs: number,
): Record<string, unknown> {
  const names = Object.keys(values) as MetricName[];
  return {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: names.map((name) => ({ Name: name, Unit: UNITS[name] ?? 'Count' })),
        },
      ],
    },
    ...dimensions,
    ...values,
  };
}
