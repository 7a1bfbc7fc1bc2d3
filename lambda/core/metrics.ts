/**
 * Metric names, defined once: the handlers emit them (CloudWatch Embedded Metric Format log lines,
 * no SDK call on the request path) and the dashboard construct graphs and alarms on them.
 */
export const METRICS_NAMESPACE = 'CdkX402';

export const Metrics = {
  paymentRequired: 'PaymentRequired',
  paymentsVerified: 'PaymentsVerified',
  paymentsRejected: 'PaymentsRejected',
  paymentsSettled: 'PaymentsSettled',
  settlementsFailed: 'SettlementsFailed',
  paymentsReleased: 'PaymentsReleased',
  revenueAtomic: 'RevenueAtomicUnits',
  facilitatorErrors: 'FacilitatorErrors',
  receiptStoreErrors: 'ReceiptStoreErrors',
  verifierLatency: 'VerifierLatencyMs',
  settlementLatency: 'SettlementLatencyMs',
} as const;

export type MetricName = (typeof Metrics)[keyof typeof Metrics];

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
