/**
 * The gateway's parts wired together: ledger driver, typed contract client, token store, wallet,
 * key directory, coalescer and metrics. `app.ts` serves it over HTTP; `server.ts` owns the process.
 */
import { type FileHandle, open as openFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { platformMlDsa } from '../core/crypto/backend.js';
import type { MlDsaBackend } from '../core/crypto/mldsa.js';
import { pooledMlDsa, type ReceiptChecker, type VerifyPool } from '../core/crypto/verify-pool.js';
import { ReceiptHandOff } from '../core/index.js';
import { type AuditActor, type AuditEventInput, TokenAuditLog } from './auth/audit.js';
import { type Caller, callerFor, identityRoles } from './auth/caller.js';
import { assertGrantable, assertNotReserved } from './auth/policy.js';
import { type Role, ROLES } from '../chaincode/identity.js';
import { type TokenRecord, TokenStore, TOKEN_NAME } from './auth/tokens.js';
import { Coalescer } from './append/coalescer.js';
import { appendAll } from './append/pipeline.js';
import { AppendWindow } from './append/window.js';
import { KeyDirectory } from './append/verify.js';
import type { GatewayConfig } from './config.js';
import { GatewayError } from './errors.js';
import { AuditLedger, ledgerFailure } from './ledger/audit.js';
import { CommitHealth, type CommitStatus } from './ledger/commit-health.js';
import { type IdentityRequest, type LedgerDriver, LedgerError } from './ledger/driver.js';
import { EmbeddedDriver } from './ledger/embedded/driver.js';
import {
  readSoftOpenFileLimit,
  type TableFileBudget,
  tableFileBudget,
} from './ledger/embedded/open-files.js';
import { FileSystemWallet, LABEL_PATTERN, type WalletIdentity } from './ledger/wallet.js';
import { type LogHealth, TransparencyLog } from './logbuilder/log.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';

export type { Caller } from './auth/caller.js';

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
  /** Rotate the bootstrap admin identity's token even though the token store exists (lost admin token). */
  bootstrapAdmin?: boolean;
  /**
   * The operator's procedure for a log-operator token: mint (or rotate) the token of the log
   * operator's identity and write it to this new file (mode 0600). The only way such a token exists.
   */
  logOperatorTokenFile?: string | undefined;
  /**
   * The ML-DSA backend of pre-verification and, embedded, of the contract. Default: embedded, the
   * platform's on a worker pool with a memo of accepted signatures shared with the contract;
   * Fabric, the platform's (`#crypto-backend`).
   */
  mlDsa?: MlDsaBackend;
  /**
   * The process's soft open-file limit, undefined when unknown; the embedded ledger's table files are
   * derived from it or checked against it (gateway/ledger/embedded/open-files.ts). Default: read it.
   */
  softOpenFileLimit?: () => Promise<number | undefined>;
}

/** A token just created: its record and the token string (which exists nowhere else). */
export interface NewToken {
  readonly record: TokenRecord;
  readonly token: string;
}

export class GatewayService {
  closing = false;
  /** The transparency log, or undefined when it cannot run (Fabric without a log-operator identity). */
  log: TransparencyLog | undefined;
  /** Where failures of background work (log builder, checkpoints) are reported; server.ts logs them. */
  reportBackground: (e: Error, what: string) => void = () => {};
  /** The admin token created at start (fresh data directory or bootstrapAdmin); shown once, never stored. */
  bootstrapToken: string | undefined;
  /** Token changes run one at a time: a check ("is this identity bound?") holds until its write. */
  private tokenChanges: Promise<unknown> = Promise.resolve();
  /** The identity that reads blocks and chain info (the log operator's), once the log is open. */
  private reader: WalletIdentity | undefined;
  /** Single-receipt appends gathered into shared transactions (append/window.ts). */
  readonly appendWindow: AppendWindow;

  private constructor(
    readonly config: GatewayConfig,
    readonly driver: LedgerDriver,
    readonly ledger: AuditLedger,
    readonly tokens: TokenStore,
    readonly audit: TokenAuditLog,
    readonly wallet: FileSystemWallet,
    readonly keys: KeyDirectory,
    readonly coalescer: Coalescer,
    readonly metrics: GatewayMetrics,
    readonly issueIdentity: IdentityIssuer | undefined,
    /** Whether the latest submits committed (what readiness cannot probe: chaincode, endorsers, orderer). */
    readonly commits: CommitHealth,
    /** What receipts are pre-verified with (and, embedded, what the contract verifies with). */
    readonly mlDsa: MlDsaBackend,
    /**
     * Parses of pre-checked receipts handed to the contract (core/receipt/handoff.ts): the embedded
     * contract runs in this process; Fabric's does not (undefined).
     */
    readonly receiptHandOff: ReceiptHandOff | undefined,
    /** Pre-checks (parse and signatures) on the worker pool of a backend this service made; else undefined. */
    readonly checkReceipt: ReceiptChecker | undefined,
    /** The worker pool of a backend this service made (not one passed in): stopped at close. */
    private readonly ownPool: VerifyPool | undefined,
  ) {
    this.appendWindow = new AppendWindow(
      {
        windowMs: config.limits.appendWindowMs,
        maxReceipts: Math.min(config.limits.receiptsPerTransaction, config.limits.batchItems),
      },
      (who, inputs) => appendAll(this, who, inputs),
    );
  }

  static async open(config: GatewayConfig, options: OpenOptions = {}): Promise<GatewayService> {
    // Checked before anything opens: a table cache the open-file limit cannot hold fails the start.
    const tables =
      config.ledger === 'embedded'
        ? tableFileBudget(
            config.embedded.maxOpenFiles,
            await (options.softOpenFileLimit ?? readSoftOpenFileLimit)(),
          )
        : undefined;
    // Claimed before anything opens, so an existing file fails the start at once.
    const operatorFile = options.logOperatorTokenFile
      ? await openFile(options.logOperatorTokenFile, 'wx', 0o600)
      : undefined;
    try {
      return await GatewayService.openClaimed(config, options, operatorFile, tables);
    } catch (e) {
      if (operatorFile) {
        await operatorFile.close();
        await rm(options.logOperatorTokenFile!, { force: true });
      }
      throw e;
    }
  }

  private static async openClaimed(
    config: GatewayConfig,
    options: OpenOptions,
    operatorFile: FileHandle | undefined,
    tables: TableFileBudget | undefined,
  ): Promise<GatewayService> {
    const { store, created } = await TokenStore.open(config.dataDir);
    const { log: audit, created: auditCreated } = await TokenAuditLog.open(config.dataDir);
    await reconcileTokens(store, audit, auditCreated);
    let driver: LedgerDriver;
    let walletDir: string;
    // Embedded, the contract runs here: its checks go to worker threads, and a memo of accepted
    // signatures is shared by pre-verification and the contract. The memo is kept here, and only here,
    // because only here does one process verify each signature twice (the gateway pre-verifies a receipt,
    // then the contract, the authority, verifies it again with this same backend and finds it); the
    // embedded benchmark measures what it saves (docs/performance.md). Why a hit cannot change an answer:
    // a verification is a deterministic function of the five inputs the memo is keyed by, and it holds
    // only this process's own successes; key status is checked apart, every time (VerificationMemo).
    const own =
      options.mlDsa || config.ledger === 'fabric'
        ? undefined
        : pooledMlDsa({ memo: true, inlineUpTo: config.limits.inlineVerifications });
    const mlDsa = options.mlDsa ?? own ?? platformMlDsa;
    const handOff = config.ledger === 'fabric' ? undefined : new ReceiptHandOff();
    if (config.ledger === 'fabric') {
      const fabric = config.fabric!;
      // Imported here, not at the top: the Fabric client libraries (fabric-network, fabric-common,
      // fabric-ca-client, gRPC, protobufs) are a large part of start-up and ~25 MiB of heap, and an
      // embedded gateway never uses them (docs/performance.md §12).
      driver =
        fabric.client === 'network'
          ? await (await import('./ledger/fabric/network-driver.js')).FabricNetworkDriver.open(fabric)
          : await (await import('./ledger/fabric/driver.js')).FabricDriver.open(fabric);
      walletDir = fabric.wallet;
    } else {
      driver = await EmbeddedDriver.open({
        dataDir: config.dataDir,
        mspId: config.embedded.mspId,
        maxBlockTxs: config.embedded.maxBlockTxs,
        blockWindowMs: config.embedded.blockWindowMs,
        cacheMiB: config.embedded.cacheMiB,
        maxOpenFiles: tables!.maxOpenFiles,
        writeBufferMiB: config.embedded.writeBufferMiB,
        openTablesAtStart: config.embedded.openTablesAtStart,
        maxQueue: Math.max(10_000, config.limits.transactionsInFlight * 4),
        mlDsa,
        handOff,
      });
      walletDir = path.join(config.dataDir, 'wallet');
    }
    let service: GatewayService | undefined;
    try {
      const wallet = new FileSystemWallet(walletDir);
      let issueIdentity: IdentityIssuer | undefined = driver.issueIdentity;
      const ca = config.ledger === 'fabric' ? config.fabric!.ca : undefined;
      if (ca) {
        const admin = await wallet.get(config.fabric!.adminIdentity);
        const { FabricCA } = await import('./ledger/fabric/ca.js');
        issueIdentity = (await FabricCA.open(ca, wallet, admin?.mspId)).issue;
      }
      let coalescer: Coalescer | undefined;
      const metrics = createMetrics({
        queueDepth: () => coalescer?.depth ?? 0,
        blockHeight: () => driver.height(),
        log: () => service?.logHealth(),
        ...(tables ? { tableFiles: tables } : {}),
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
        audit,
        wallet,
        new KeyDirectory(ledger),
        coalescer,
        metrics,
        issueIdentity,
        commits,
        mlDsa,
        handOff,
        own?.checkReceipt,
        own?.pool,
      );
      await service.openLog();
      if (created || options.bootstrapAdmin) {
        // The bootstrap admin identity (embedded: `admin`; Fabric: fabric.adminIdentity), issued
        // first if the wallet lacks it and the gateway can issue identities.
        const adminLabel = config.ledger === 'fabric' ? config.fabric!.adminIdentity : 'admin';
        if (issueIdentity && !(await wallet.get(adminLabel)))
          await wallet.put(await issueIdentity({ name: adminLabel, roles: ['admin'] }));
        const { token } = await service.operatorToken(
          adminLabel,
          created ? 'first-start' : 'bootstrap-admin',
        );
        service.bootstrapToken = token;
      }
      if (operatorFile) await service.writeLogOperatorToken(operatorFile);
      return service;
    } catch (e) {
      await service?.log?.close();
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
      recordCosignatures: t.witness ? (note) => this.ledger.recordCosignatures(operator, note) : undefined,
      onError: (e) => this.reportBackground(e, 'transparency log'),
      stallAfterMs: t.stallAfterMs,
      builder: { maxBackoffMs: t.reconnectMaxBackoffMs, caughtUpTimeoutMs: t.catchUpTimeoutMs },
      // On the embedded ledger, bundle exports have a thread of their own that reads it (export-thread.ts).
      exportThread:
        driver.kind === 'embedded' && t.exportThreadHeapMiB > 0
          ? { ledgerDir: this.config.dataDir, heapMiB: t.exportThreadHeapMiB }
          : undefined,
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
    return callerFor(record, identity);
  }

  /** The wallet label of the log operator's identity (reserved: no admin mints a token for it). */
  get logOperatorLabel(): string {
    return this.config.transparency.identity ?? 'log-operator';
  }

  /**
   * Refusals of the token policy (403) by an authenticated caller are audited too: an auditor sees
   * who tried to borrow which identity or role.
   */
  private async policy<T>(actor: AuditActor, request: Record<string, unknown>, check: () => T): Promise<T> {
    try {
      return check();
    } catch (e) {
      if (e instanceof GatewayError && e.status === 403 && actor.kind === 'token') {
        await this.audit.append({
          event: 'token.refused',
          actor,
          refused: { code: e.code, message: e.message, request },
        });
      }
      throw e;
    }
  }

  /** Write-ahead: the event is on disk before the token store changes. */
  private async issue(
    event: AuditEventInput['event'],
    actor: AuditActor,
    fields: { name: string; roles: readonly Role[]; identity: string; createdBy: string },
    replaces?: TokenRecord,
  ): Promise<NewToken> {
    const id = this.tokens.newId();
    await this.audit.append({
      event,
      actor,
      token: { id, name: fields.name, identity: fields.identity, roles: [...fields.roles].sort() },
      ...(replaces ? { replaces: replaces.id } : {}),
    });
    return replaces
      ? this.tokens.rotate(replaces, {
          id,
          name: fields.name,
          roles: fields.roles,
          createdBy: fields.createdBy,
        })
      : this.tokens.create({ id, ...fields });
  }

  /**
   * The operator's own procedure (at start, with the data directory in hand): mint the token of a
   * wallet identity — rotating its current one if it has one. The only way to a log-operator token.
   */
  operatorToken(
    label: string,
    procedure: 'first-start' | 'bootstrap-admin' | 'log-operator-token',
  ): Promise<NewToken> {
    return this.oneTokenChange(() => this.operatorTokenNow(label, procedure));
  }

  private async operatorTokenNow(
    label: string,
    procedure: 'first-start' | 'bootstrap-admin' | 'log-operator-token',
  ): Promise<NewToken> {
    const identity = await this.wallet.get(label);
    if (!identity)
      throw new GatewayError('E_IDENTITY_UNKNOWN', `the wallet holds no identity labelled ${label}`, {
        identity: label,
      });
    const roles = [...identityRoles(identity)];
    if (roles.length === 0)
      throw new GatewayError('E_BAD_REQUEST', `identity ${label} has no torgo.role in its certificate`);
    const latest = this.tokens.latestFor(label);
    const createdBy = procedure === 'first-start' ? 'bootstrap' : 'operator';
    return this.issue(
      latest ? 'token.rotated' : 'token.issued',
      { kind: 'operator', procedure },
      { name: latest?.name ?? label, roles, identity: label, createdBy },
      latest,
    );
  }

  /** `--log-operator-token-file`: the token minted into the file claimed at open. */
  private async writeLogOperatorToken(file: FileHandle): Promise<void> {
    if (!this.log)
      throw new Error(`no log-operator identity "${this.logOperatorLabel}": the transparency log is off`);
    const { token } = await this.operatorToken(this.logOperatorLabel, 'log-operator-token');
    await file.writeFile(`${token}\n`);
    await file.sync();
    await file.close();
  }

  /**
   * Creates a token (an admin's request): for a new identity with `roles` (embedded: issued by the
   * ledger's CA with the roles as its `torgo.role`), or bound to an existing wallet identity that has
   * never had a token, whose certificate then decides the roles. Never for the log operator's
   * identity, never a role an admin may not grant, never a second token for a bound identity.
   */
  createToken(
    request: { name: string; roles?: readonly string[] | undefined; identity?: string | undefined },
    actor: AuditActor,
  ): Promise<NewToken> {
    return this.oneTokenChange(() => this.createTokenNow(request, actor));
  }

  private async createTokenNow(
    request: { name: string; roles?: readonly string[] | undefined; identity?: string | undefined },
    actor: AuditActor,
  ): Promise<NewToken> {
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
    const audited = {
      name: request.name,
      roles: asked,
      ...(request.identity === undefined ? {} : { identity: request.identity }),
    };
    let identity: WalletIdentity;
    let roles: Role[];
    if (request.identity !== undefined) {
      const label = request.identity;
      if (!LABEL_PATTERN.test(label))
        throw new GatewayError('E_BAD_REQUEST', `identity must match ${LABEL_PATTERN.source}`);
      await this.policy(actor, audited, () => assertNotReserved(label, [this.logOperatorLabel]));
      const found = await this.wallet.get(label);
      if (!found)
        throw new GatewayError('E_IDENTITY_UNKNOWN', `the wallet holds no identity labelled ${label}`, {
          identity: label,
        });
      identity = found;
      roles = [...identityRoles(identity)];
      if (asked.length > 0 && asked.join(',') !== roles.join(',')) {
        throw new GatewayError(
          'E_BAD_REQUEST',
          `identity ${label} has roles [${roles.join(', ')}] in its certificate, not [${asked.join(', ')}]`,
        );
      }
      await this.policy(actor, audited, () => {
        assertGrantable(roles, label);
        const bound = this.tokens.latestFor(label);
        if (bound) {
          throw new GatewayError(
            'E_IDENTITY_BOUND',
            `identity ${label} is bound to token ${bound.id}: a new token for it only by rotation (POST /v1/tokens/${bound.id}/rotate), which revokes the old one`,
            { identity: label, tokenId: bound.id },
          );
        }
      });
    } else {
      if (asked.length === 0)
        throw new GatewayError('E_BAD_REQUEST', `give at least one role (${ROLES.join(', ')})`);
      roles = asked as Role[];
      await this.policy(actor, audited, () => assertGrantable(roles));
      if (!this.issueIdentity) {
        throw new GatewayError(
          'E_BAD_REQUEST',
          'this gateway cannot issue identities (on Fabric, configure fabric.ca): give "identity", a label in the wallet',
        );
      }
      let label = request.name;
      for (let n = 2; (await this.wallet.get(label)) || label === this.logOperatorLabel; n++)
        label = `${request.name}-${n}`;
      identity = await this.issueIdentity({ name: label, roles });
      await this.wallet.put(identity);
    }
    if (roles.length === 0)
      throw new GatewayError(
        'E_BAD_REQUEST',
        'the identity has no torgo.role: a token for it could do nothing',
      );
    return this.issue('token.issued', actor, {
      name: request.name,
      roles,
      identity: identity.label,
      createdBy: actor.kind === 'token' ? actor.tokenId : 'operator',
    });
  }

  /**
   * Rotation: a new token for the identity of token `id` (its latest), revoking it. By the token
   * itself (`self`: any role, its own identity) or by an admin (within what an admin may grant;
   * never the log operator's identity).
   */
  rotateToken(id: string, actor: AuditActor, self: boolean): Promise<NewToken> {
    return this.oneTokenChange(() => this.rotateTokenNow(id, actor, self));
  }

  private async rotateTokenNow(id: string, actor: AuditActor, self: boolean): Promise<NewToken> {
    const old = this.tokens.get(id);
    if (!old) throw new GatewayError('E_TOKEN_UNKNOWN', `no token ${id}`);
    const latest = this.tokens.latestFor(old.identity);
    if (latest && latest.id !== old.id)
      throw new GatewayError(
        'E_TOKEN_SUPERSEDED',
        `token ${id} was replaced by ${latest.id}: rotate the identity's latest token`,
        { tokenId: id, latest: latest.id },
      );
    const identity = await this.wallet.get(old.identity);
    if (!identity)
      throw new GatewayError(
        'E_IDENTITY_UNKNOWN',
        `token ${id}: its identity ${old.identity} is not in the wallet`,
        { identity: old.identity },
      );
    const roles = [...identityRoles(identity)];
    if (!self) {
      await this.policy(actor, { rotate: id, identity: old.identity }, () => {
        assertNotReserved(old.identity, [this.logOperatorLabel]);
        assertGrantable(roles, old.identity);
      });
    }
    if (roles.length === 0)
      throw new GatewayError(
        'E_BAD_REQUEST',
        `identity ${old.identity} has no torgo.role in its certificate`,
      );
    return this.issue(
      'token.rotated',
      actor,
      {
        name: old.name,
        roles,
        identity: old.identity,
        createdBy: actor.kind === 'token' ? actor.tokenId : 'operator',
      },
      old,
    );
  }

  /** Revokes a token (audited first); revoking a revoked token changes nothing and records nothing. */
  revokeToken(id: string, actor: AuditActor): Promise<TokenRecord> {
    return this.oneTokenChange(() => this.revokeTokenNow(id, actor));
  }

  private async revokeTokenNow(id: string, actor: AuditActor): Promise<TokenRecord> {
    const record = this.tokens.get(id);
    if (!record) throw new GatewayError('E_TOKEN_UNKNOWN', `no token ${id}`);
    if (record.revokedAt) return record;
    await this.audit.append({
      event: 'token.revoked',
      actor,
      token: { id, name: record.name, identity: record.identity, roles: [...record.roles] },
    });
    const revoked = await this.tokens.revoke(id, actor.kind === 'token' ? actor.tokenId : 'operator');
    return revoked!;
  }

  private oneTokenChange<T>(change: () => Promise<T>): Promise<T> {
    const run = this.tokenChanges.then(change);
    this.tokenChanges = run.catch(() => undefined);
    return run;
  }

  /** Stop taking appends, answer every queued one, close the ledger. */
  async close(): Promise<void> {
    this.closing = true;
    await this.appendWindow.drain();
    await this.coalescer.drain();
    await this.log?.close();
    await this.driver.close();
    await this.ownPool?.close();
  }
}

/**
 * Brings the token store in line with the audit log at open (events are written first, so a crash
 * can leave an event whose change did not reach the store): a revocation or rotation on the log
 * revokes the token in the store too. A store older than its audit log (an upgrade) has its tokens
 * recorded as `token.imported`.
 */
async function reconcileTokens(
  store: TokenStore,
  audit: TokenAuditLog,
  auditCreated: boolean,
): Promise<void> {
  if (auditCreated) {
    for (const info of store.list()) {
      await audit.append({
        event: 'token.imported',
        actor: { kind: 'operator', procedure: 'import' },
        token: { id: info.id, name: info.name, identity: info.identity, roles: [...info.roles] },
      });
      if (info.revokedAt)
        await audit.append({
          event: 'token.revoked',
          actor: { kind: 'operator', procedure: 'import' },
          token: { id: info.id, name: info.name, identity: info.identity, roles: [...info.roles] },
        });
    }
    return;
  }
  for (const e of audit.all()) {
    const revoked =
      e.event === 'token.revoked' ? e.token?.id : e.event === 'token.rotated' ? e.replaces : undefined;
    if (revoked === undefined) continue;
    const record = store.get(revoked);
    if (record && !record.revokedAt)
      await store.revoke(revoked, e.actor.kind === 'token' ? e.actor.tokenId : 'operator');
  }
}
