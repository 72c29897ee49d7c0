/**
 * The relay's Prometheus metrics (prom-client), one registry per relay, in the gateway's style
 * (gateway/metrics.ts): `torgo_relay_` prefix, `_total` counters, `_seconds` histograms.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface RelayMetrics {
  readonly registry: Registry;
  readonly received: Counter<'status'>;
  readonly refused: Counter<'code'>;
  readonly forwarded: Counter<'gateway' | 'status'>;
  readonly rejected: Counter<'code'>;
  readonly forwardErrors: Counter<'gateway' | 'code'>;
  readonly forwardSeconds: Histogram<'gateway'>;
}

/** What the gauges read when scraped. */
export interface BacklogSource {
  readonly receipts: number;
  readonly bytes: number;
  readonly rejected: number;
  /** Epoch ms of the oldest unforwarded receipt's acceptance; undefined when none. */
  readonly oldestAcceptedAt: number | undefined;
}

export function createRelayMetrics(backlog: () => BacklogSource): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'torgo_relay_' });
  const gauge = (name: string, help: string, read: (b: BacklogSource) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(backlog()));
      },
    });
  gauge('torgo_relay_backlog_receipts', 'Receipts accepted and not yet forwarded', (b) => b.receipts);
  gauge('torgo_relay_backlog_bytes', 'Bytes of .mu receipts accepted and not yet forwarded', (b) => b.bytes);
  gauge(
    'torgo_relay_rejected_receipts',
    'Receipts the gateway refused for good, kept in the outbox',
    (b) => b.rejected,
  );
  gauge(
    'torgo_relay_oldest_unforwarded_age_seconds',
    'Age of the oldest unforwarded receipt (0 when none)',
    (b) => (b.oldestAcceptedAt === undefined ? 0 : Math.max(0, (Date.now() - b.oldestAcceptedAt) / 1000)),
  );
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    received: counter(
      'torgo_relay_received_total',
      'Receipts accepted: status "queued" (made durable) or "existing" (identical repeat of a queued one)',
      ['status'] as const,
    ),
    refused: counter(
      'torgo_relay_refused_total',
      'Receipts refused at intake, by error code (E_RELAY_FULL, E_RECEIPT_SYNTAX…)',
      ['code'] as const,
    ),
    forwarded: counter(
      'torgo_relay_forwarded_total',
      'Receipts the gateway acknowledged: "appended" (new) or "existing" (already on the ledger: a resend)',
      ['gateway', 'status'] as const,
    ),
    rejected: counter(
      'torgo_relay_rejected_total',
      'Receipts the gateway refused for good (kept as rejected), by error code',
      ['code'] as const,
    ),
    forwardErrors: counter(
      'torgo_relay_forward_errors_total',
      'Forward attempts that failed and will be retried, by gateway and reason',
      ['gateway', 'code'] as const,
    ),
    forwardSeconds: new Histogram({
      name: 'torgo_relay_forward_duration_seconds',
      help: 'Time of one forward request (a batch) to a gateway',
      labelNames: ['gateway'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
