/**
 * The gateway's parts wired together: ledger driver, typed contract client, token store, wallet,
 * key directory, coalescer and metrics. `app.ts` serves it over HTTP; `server.ts` owns the process.
 */
import path from 'node:path';
import { preferNativeMlDsa } from '../core/crypto/native.js';
import { certificateRoles } from './auth/roles.js';
import { type Role, ROLES, type TokenRecord, TokenStore, TOKEN_NAME } from './auth/tokens.js';
import { Coalescer } from './append/coalescer.js';
import { KeyDirectory } from './append/verify.js';
import type { GatewayConfig } from './config.js';
import { GatewayError } from './errors.js';
import { AuditLedger, ledgerFailure } from './ledger/audit.js';
import { CommitHealth, type CommitStatus } from './ledger/commit-health.js';
import { type IdentityRequest, type LedgerDriver, LedgerError } from './ledger/driver.js';
import { EmbeddedDriver } from './ledger/embedded/driver.js';
import { FabricCA } from './ledger/fabric/ca.js';
import { FabricDriver } from './ledger/fabric/driver.js';
import { FabricNetworkDriver } from './ledger/fabric/network-driver.js';
import { FileSystemWallet, LABEL_PATTERN, type WalletIdentity } from './ledger/wallet.js';
import { type LogHealth, TransparencyLog } from './logbuilder/log.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';

export interface Caller {
  readonly token: TokenRecord;
  readonly identity: WalletIdentity;
}

/** What `/readyz` answers (http/app.ts). */
export interface Readiness {
  readonly ready: boolean;
  /** Why not, for people. */
  readonly message: string;
  readonly height: number | undefined;
  readonly ledger: { readonly ok: boolean; readonly reason?: string };
  /** Whether the latest append transactions committed (ledger/commit-health.ts). */
  readonly commits: CommitStatus;
  readonly log:
    | {
        readonly state: LogHealth['state'];
        readonly nextBlock: number;
        readonly height?: number;
        readonly lagBlocks: number;
        readonly stalled: boolean;
        readonly stalledForSeconds: number;
        readonly reconnects: number;
        readonly consecutiveFailures: number;
        readonly lastError?: string;
        readonly lastBlockAt?: string;
      }
    | { readonly state: 'off' };
}

/** Issues a new identity for a token: the embedded ledger's CA, or on Fabric the org's CA (fabric.ca). */
export type IdentityIssuer = (request: IdentityRequest) => Promise<WalletIdentity>;

export interface OpenOptions {
  /** Create a new admin token even though the token store exists (lost admin token). */
  bootstrapAdmin?: boolean;
}

export class GatewayService {
  closing = false;
  /** The transparency log, or undefined when it cannot run (Fabric without a log-operator identity). */
  log: TransparencyLog | undefined;
  /** Where failures of background work (log builder, checkpoints) are reported; server.ts logs them. */
  reportBackground: (e: Error, what: string) => void = () => {};
  /** The admin token created at start (fresh data directory or bootstrapAdmin); shown once, never stored. */
  bootstrapToken: string | undefined;
  /** The identity that reads blocks and chain info (the log operator's), once the log is open. */
  private reader: WalletIdentity | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly driver: LedgerDriver,
    readonly ledger: AuditLedger,
    readonly tokens: TokenStore,
    readonly wallet: FileSystemWallet,
    readonly keys: KeyDirectory,
    readonly coalescer: Coalescer,
    readonly metrics: GatewayMetrics,
    readonly issueIdentity: IdentityIssuer | undefined,
    /** Whether the latest submits committed (what readiness cannot probe: chaincode, endorsers, orderer). */
    readonly commits: CommitHealth,
  ) {}

  static async open(config: GatewayConfig, options: OpenOptions = {}): Promise<GatewayService> {
    // Pre-verification runs on OpenSSL's ML-DSA where the runtime has it (Node ≥ 24.7).
    preferNativeMlDsa();
    const { store, created } = await TokenStore.open(config.dataDir);
    let driver: LedgerDriver;
    let walletDir: string;
    if (config.ledger === 'fabric') {
      const fabric = config.fabric!;
      driver =
        fabric.client === 'network'
          ? await FabricNetworkDriver.open(fabric)
          : await FabricDriver.open(fabric);
      walletDir = fabric.wallet;
    } else {
      driver = await EmbeddedDriver.open({
        dataDir: config.dataDir,
        mspId: config.embedded.mspId,
        maxBlockTxs: config.embedded.maxBlockTxs,
        maxQueue: Math.max(10_000, config.limits.transactionsInFlight * 4),
      });
      walletDir = path.join(config.dataDir, 'wallet');
    }
    try {
      const wallet = new FileSystemWallet(walletDir);
      let issueIdentity: IdentityIssuer | undefined = driver.issueIdentity;
      const ca = config.ledger === 'fabric' ? config.fabric!.ca : undefined;
      if (ca) {
        const admin = await wallet.get(config.fabric!.adminIdentity);
        issueIdentity = (await FabricCA.open(ca, wallet, admin?.mspId)).issue;
      }
      let coalescer: Coalescer | undefined;
      let service: GatewayService | undefined;
      const metrics = createMetrics({
        queueDepth: () => coalescer?.depth ?? 0,
        blockHeight: () => driver.height(),
        log: () => service?.logHealth(),
      });
      const commits = new CommitHealth();
      const ledger = new AuditLedger(driver, {
        committed: (fcn, seconds) => {
          metrics.ledgerCommitSeconds.observe({ fcn }, seconds);
          commits.committed();
        },
        failed: (stage, reason, during, retryable) => {
          metrics.ledgerErrors.inc({ stage, reason });
          if (during === 'submit') commits.failed(stage, reason, retryable);
        },
      });
      coalescer = new Coalescer(
        ledger,
        {
          queueLimit: config.limits.queueReceipts,
          receiptsPerTransaction: config.limits.receiptsPerTransaction,
          transactionsInFlight: config.limits.transactionsInFlight,
          retryBudgetMs: config.limits.retryBudgetMs,
        },
        metrics,
      );
      service = new GatewayService(
        config,
        driver,
        ledger,
        store,
        wallet,
        new KeyDirectory(ledger),
        coalescer,
        metrics,
        issueIdentity,
        commits,
      );
      await service.openLog();
      if (created || options.bootstrapAdmin) {
        // Fabric: the wallet's admin identity, issued by the CA first if there is none yet.
        const adminLabel = config.ledger === 'fabric' ? config.fabric!.adminIdentity : undefined;
        if (adminLabel && issueIdentity && !(await wallet.get(adminLabel)))
          await wallet.put(await issueIdentity({ name: adminLabel, roles: ['admin'] }));
        const { token } = await service.createToken(
          { name: 'admin', roles: ['admin'], identity: adminLabel },
          'bootstrap',
        );
        service.bootstrapToken = token;
      }
      return service;
    } catch (e) {
      await driver.close();
      throw e;
    }
  }

  /**
   * Starts the transparency log under a log-operator identity: the wallet identity named in the
   * config (default `log-operator`), issued once and kept in the wallet where the gateway can issue
   * identities (embedded; Fabric with fabric.ca).
   */
  private async openLog(): Promise<void> {
    const t = this.config.transparency;
    const label = t.identity ?? 'log-operator';
    let identity = await this.wallet.get(label);
    if (!identity && this.issueIdentity) {
      identity = await this.issueIdentity({ name: label, roles: ['log-operator'] });
      await this.wallet.put(identity);
    }
    if (!identity) {
      this.reportBackground(
        new Error(`no wallet identity "${label}": the transparency log is off`),
        'transparency log',
      );
      return;
    }
    const operator = identity;
    const driver = this.driver;
    this.reader = operator;
    this.log = await TransparencyLog.open({
      dataDir: this.config.dataDir,
      origin: t.origin,
      keyFile: t.keyFile,
      checkpointIntervalMs: t.checkpointIntervalMs,
      source: (from, signal) => driver.blocks(operator, from, signal),
      recordOnLedger: (note) => this.ledger.recordCheckpoint(operator, note),
      onError: (e) => this.reportBackground(e, 'transparency log'),
      stallAfterMs: t.stallAfterMs,
      builder: { maxBackoffMs: t.reconnectMaxBackoffMs, caughtUpTimeoutMs: t.catchUpTimeoutMs },
    });
  }

  /** The log's health against the ledger height the driver knows; undefined while the log is off. */
  logHealth(): LogHealth | undefined {
    if (!this.log) return undefined;
    const height = this.driver.height();
    if (height !== undefined) this.log.builder.observeHeight(height);
    return this.log.health();
  }

  /**
   * The ledger's height now — embedded: exact; Fabric: qscc GetChainInfo as the log operator. What
   * checkpoints, proofs and exports must cover. E_UNAVAILABLE when the ledger cannot say.
   */
  async currentHeight(): Promise<number> {
    try {
      await this.driver.checkReady(this.reader);
    } catch (e) {
      throw ledgerFailure(e);
    }
    const height = this.driver.height();
    if (height === undefined) {
      throw new GatewayError('E_UNAVAILABLE', 'the ledger height is not known yet; retry later', {
        stage: 'connect',
        reason: 'HEIGHT_UNKNOWN',
      });
    }
    this.log?.builder.observeHeight(height);
    return height;
  }

  /**
   * Ready: not shutting down, the ledger answers (Fabric: a peer connects and answers GetChainInfo)
   * and the transparency log is not stalled.
   */
  async readiness(): Promise<Readiness> {
    let ledger: Readiness['ledger'] = { ok: true };
    try {
      await this.driver.checkReady(this.reader);
    } catch (e) {
      const reason =
        e instanceof LedgerError ? `${e.reason ? `${e.reason}: ` : ''}${e.message}` : (e as Error).message;
      ledger = { ok: false, reason };
    }
    const height = this.driver.height();
    const h = this.logHealth();
    const log: Readiness['log'] = h
      ? {
          state: h.state,
          nextBlock: h.nextBlock,
          ...(h.height === undefined ? {} : { height: h.height }),
          lagBlocks: h.lagBlocks,
          stalled: h.stalled,
          stalledForSeconds: h.stalledForSeconds,
          reconnects: h.reconnects,
          consecutiveFailures: h.consecutiveFailures,
          ...(h.lastError ? { lastError: h.lastError } : {}),
          ...(h.lastBlockAt ? { lastBlockAt: h.lastBlockAt.toISOString() } : {}),
        }
      : { state: 'off' };
    const commits = this.commits.status();
    const problems: string[] = [];
    if (this.closing) problems.push('the gateway is shutting down');
    if (!ledger.ok) problems.push('the ledger is not reachable');
    else if (!commits.ok)
      problems.push(
        `appends cannot commit: ${commits.reason} at stage ${commits.stage} since ${commits.since}`,
      );
    if (h?.stalled) {
      problems.push(
        h.state === 'reconnecting'
          ? 'the transparency log is reconnecting to the ledger'
          : `the transparency log is ${h.lagBlocks} block(s) behind the ledger`,
      );
    }
    return {
      ready: problems.length === 0,
      message: problems.length === 0 ? 'ready' : problems.join('; '),
      height,
      ledger,
      commits,
      log,
    };
  }

  /** The caller behind a bearer token, or undefined (unknown, malformed or revoked). */
  async authenticate(token: string): Promise<Caller | undefined> {
    const record = this.tokens.authenticate(token);
    if (!record) return undefined;
    const identity = await this.wallet.get(record.identity);
    if (!identity)
      throw new GatewayError(
        'E_IDENTITY_UNKNOWN',
        `token ${record.id}: its identity ${record.identity} is not in the wallet`,
      );
    return { token: record, identity };
  }

  /**
   * Creates a token for a new identity (embedded: issued by the ledger's CA with the roles as its
   * `torgo.role` attribute) or for an existing wallet identity, whose certificate then decides the roles.
   */
  async createToken(
    request: { name: string; roles?: readonly string[] | undefined; identity?: string | undefined },
    createdBy: string,
  ): Promise<{ record: TokenRecord; token: string }> {
    if (!TOKEN_NAME.test(request.name)) {
      throw new GatewayError('E_BAD_REQUEST', `token name must match ${TOKEN_NAME.source}`);
    }
    const asked = [...new Set(request.roles ?? [])].sort();
    const unknown = asked.filter((r) => !ROLES.includes(r as Role));
    if (unknown.length > 0)
      throw new GatewayError(
        'E_BAD_REQUEST',
        `unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`,
      );
    let identity: WalletIdentity;
    let roles: Role[];
    if (request.identity !== undefined) {
      if (!LABEL_PATTERN.test(request.identity))
        throw new GatewayError('E_BAD_REQUEST', `identity must match ${LABEL_PATTERN.source}`);
      const found = await this.wallet.get(request.identity);
      if (!found)
        throw new GatewayError(
          'E_IDENTITY_UNKNOWN',
          `the wallet holds no identity labelled ${request.identity}`,
          { identity: request.identity },
        );
      identity = found;
      roles = certificateRoles(identity.certificate);
      if (asked.length > 0 && asked.join(',') !== roles.join(',')) {
        throw new GatewayError(
          'E_BAD_REQUEST',
          `identity ${request.identity} has roles [${roles.join(', ')}] in its certificate, not [${asked.join(', ')}]`,
        );
      }
    } else {
      if (!this.issueIdentity) {
        throw new GatewayError(
          'E_BAD_REQUEST',
          'this gateway cannot issue identities (on Fabric, configure fabric.ca): give "identity", a label in the wallet',
        );
      }
      if (asked.length === 0)
        throw new GatewayError('E_BAD_REQUEST', `give at least one role (${ROLES.join(', ')})`);
      roles = asked as Role[];
      let label = request.name;
      for (let n = 2; await this.wallet.get(label); n++) label = `${request.name}-${n}`;
      identity = await this.issueIdentity({ name: label, roles });
      await this.wallet.put(identity);
    }
    if (roles.length === 0)
      throw new GatewayError(
        'E_BAD_REQUEST',
        'the identity has no torgo.role: a token for it could do nothing',
      );
    return this.tokens.create({ name: request.name, roles, identity: identity.label, createdBy });
  }

  /** Stop taking appends, answer every queued one, close the ledger. */
  async close(): Promise<void> {
    this.closing = true;
    await this.coalescer.drain();
    await this.log?.close();
    await this.driver.close();
  }
}
