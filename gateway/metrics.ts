/**
 * Prometheus metrics (prom-client), one registry per gateway so tests can run several side by side.
 * Names follow Prometheus conventions: `_total` counters, `_seconds` histograms, base units.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly appendSeconds: Histogram<'outcome'>;
  readonly receiptsAppended: Counter<'status'>;
  readonly verificationFailures: Counter<'code' | 'stage'>;
  readonly ledgerTransactions: Counter<'fcn' | 'outcome'>;
  readonly receiptsPerTransaction: Histogram;
  readonly ledgerCommitSeconds: Histogram<'fcn'>;
  readonly ledgerErrors: Counter<'stage' | 'reason'>;
}

/** What the log metrics read: the builder's status (logbuilder/log.ts `health`). */
export interface LogGaugeSource {
  readonly nextBlock: number;
  readonly lagBlocks: number;
  readonly stalled: boolean;
  readonly reconnects: number;
}

export function createMetrics(sources: {
  queueDepth: () => number;
  blockHeight: () => number | undefined;
  /** Undefined while the transparency log is off. */
  log?: () => LogGaugeSource | undefined;
  /** Embedded: the table files LevelDB keeps open, and whether configured or derived. */
  tableFiles?: { readonly maxOpenFiles: number; readonly source: string };
}): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'torgo_' });
  const requests = new Counter({
    name: 'torgo_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const appendSeconds = new Histogram({
    name: 'torgo_append_duration_seconds',
    help: 'Time from an append entering the queue to its answer (commit, or rejection)',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const receiptsAppended = new Counter({
    name: 'torgo_receipts_appended_total',
    help: 'Receipts acknowledged: status "appended" (new) or "existing" (identical repeat)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const verificationFailures = new Counter({
    name: 'torgo_verification_failures_total',
    help: 'Receipts rejected, by error code and stage (verify = gateway pre-verification, endorse = contract)',
    labelNames: ['code', 'stage'] as const,
    registers: [registry],
  });
  const ledgerTransactions = new Counter({
    name: 'torgo_ledger_transactions_total',
    help: 'Append transactions submitted to the ledger, by function and outcome',
    labelNames: ['fcn', 'outcome'] as const,
    registers: [registry],
  });
  const receiptsPerTransaction = new Histogram({
    name: 'torgo_receipts_per_transaction',
    help: 'Receipts coalesced into one append transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 100],
    registers: [registry],
  });
  new Gauge({
    name: 'torgo_append_queue_depth',
    help: 'Receipts waiting for or inside a ledger transaction',
    registers: [registry],
    collect() {
      this.set(sources.queueDepth());
    },
  });
  new Gauge({
    name: 'torgo_ledger_block_height',
    help: 'Committed blocks of the ledger (the next block number)',
    registers: [registry],
    collect() {
      const h = sources.blockHeight();
      if (h !== undefined) this.set(h);
    },
  });
  if (sources.tableFiles) {
    new Gauge({
      name: 'torgo_ledger_max_open_files',
      help: "Table files the embedded ledger's LevelDB keeps open (embedded.maxOpenFiles; source: configured, derived from the open-file limit, or LevelDB's default where the limit is unknown)",
      labelNames: ['source'],
      registers: [registry],
    }).set({ source: sources.tableFiles.source }, sources.tableFiles.maxOpenFiles);
  }
  const ledgerCommitSeconds = new Histogram({
    name: 'torgo_ledger_commit_duration_seconds',
    help: 'Time from submitting a ledger transaction to its commit (VALID), by contract function',
    labelNames: ['fcn'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const ledgerErrors = new Counter({
    name: 'torgo_ledger_errors_total',
    help: 'Ledger failures that are not contract refusals, by stage and reason (NO_ENDORSERS, PEER_UNAVAILABLE…)',
    labelNames: ['stage', 'reason'] as const,
    registers: [registry],
  });
  const log = () => sources.log?.();
  new Gauge({
    name: 'torgo_log_next_block',
    help: 'The first ledger block not yet in the transparency log',
    registers: [registry],
    collect() {
      const l = log();
      if (l) this.set(l.nextBlock);
    },
  });
  new Gauge({
    name: 'torgo_log_lag_blocks',
    help: 'Ledger blocks committed but not yet in the transparency log',
    registers: [registry],
    collect() {
      const l = log();
      if (l) this.set(l.lagBlocks);
    },
  });
  new Gauge({
    name: 'torgo_log_stalled',
    help: '1 while the transparency log is stalled (reconnecting, or behind without progress), else 0',
    registers: [registry],
    collect() {
      const l = log();
      if (l) this.set(l.stalled ? 1 : 0);
    },
  });
  new Counter({
    name: 'torgo_log_reconnects_total',
    help: "Reconnects of the transparency log builder's block stream",
    registers: [registry],
    collect() {
      // The builder owns the count; expose it as the counter's value.
      const l = log();
      this.reset();
      if (l && l.reconnects > 0) this.inc(l.reconnects);
    },
  });
  return {
    registry,
    ledgerCommitSeconds,
    ledgerErrors,
    requests,
    appendSeconds,
    receiptsAppended,
    verificationFailures,
    ledgerTransactions,
    receiptsPerTransaction,
  };
}
