/**
 * The Fabric driver: the contract on a real Fabric network through the peer's Gateway service
 * (`@hyperledger/fabric-gateway` over one `@grpc/grpc-js` connection). Each token's identity is a
 * wallet entry (certificate + key, fabric-network's file-system wallet format), so the ledger
 * records the real submitter; one `Gateway` per identity shares the gRPC connection.
 *
 * Errors keep fabric-gateway's stages: EndorseError → `endorse` (the contract's `CODE: …` message is
 * dug out of the peer's wrapping), SubmitError → `submit`, an invalid commit status → `commit`,
 * CommitStatusError → `commit-status` (the outcome is unknown: the client may retry, appends are
 * idempotent).
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import {
  CommitStatusError,
  type Contract,
  connect,
  EndorseError,
  type Gateway,
  GatewayError as FabricGatewayError,
  hash,
  signers,
  StatusCode,
} from '@hyperledger/fabric-gateway';
import type { FabricConfig } from '../../config.js';
import { CONTRACT_CODES } from '../../errors.js';
import { type Committed, LedgerError, type LedgerDriver } from '../driver.js';
import type { WalletIdentity } from '../wallet.js';
import { blockNumberOf, heightOf } from './protobuf.js';
import type { LogBlock } from '../../logbuilder/builder.js';
import { logBlockOfFabric } from './blocks.js';

const CONTRACT_MESSAGE = new RegExp(`\\b((?:${Object.keys(CONTRACT_CODES).join('|')}): [\\s\\S]*)$`);

/** The contract's own message inside a peer's error text (`chaincode response 500, RECEIPT_CONFLICT: …`). */
function contractMessage(e: FabricGatewayError): string | undefined {
  for (const text of [...e.details.map((d) => d.message), e.message]) {
    const m = CONTRACT_MESSAGE.exec(text);
    if (m) return m[1]!;
  }
  return undefined;
}

const RETRYABLE_GRPC = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.RESOURCE_EXHAUSTED,
]);

function toLedgerError(e: unknown, stage: 'endorse' | 'evaluate'): unknown {
  if (e instanceof LedgerError) return e;
  if (
    e instanceof EndorseError ||
    (stage === 'evaluate' && e instanceof FabricGatewayError && !RETRYABLE_GRPC.has(e.code))
  ) {
    const message = contractMessage(e as FabricGatewayError);
    if (message)
      return new LedgerError('endorse', message, { txId: (e as EndorseError).transactionId, cause: e });
  }
  if (e instanceof CommitStatusError) {
    return new LedgerError(
      'commit-status',
      `the commit status of ${e.transactionId} is unknown: ${e.message}`,
      {
        txId: e.transactionId,
        retryable: true,
        reason: 'COMMIT_STATUS_UNKNOWN',
        cause: e,
      },
    );
  }
  if (e instanceof FabricGatewayError) {
    const txId = (e as { transactionId?: string }).transactionId;
    const submit = e.name === 'SubmitError';
    return new LedgerError(
      submit ? 'submit' : RETRYABLE_GRPC.has(e.code) ? 'connect' : 'endorse',
      e.message,
      {
        ...(txId ? { txId } : {}),
        retryable: RETRYABLE_GRPC.has(e.code) || submit,
        reason: grpc.status[e.code],
        cause: e,
      },
    );
  }
  return e;
}

export class FabricDriver implements LedgerDriver {
  readonly kind = 'fabric' as const;
  private readonly gateways = new Map<string, Gateway>();

  private constructor(
    private readonly config: FabricConfig,
    private readonly client: grpc.Client,
  ) {}

  static async open(config: FabricConfig): Promise<FabricDriver> {
    const tlsRootCert = await readFile(config.tlsCaCert);
    const credentials = grpc.credentials.createSsl(tlsRootCert);
    const options: grpc.ClientOptions = config.hostAlias
      ? { 'grpc.ssl_target_name_override': config.hostAlias }
      : {};
    return new FabricDriver(config, new grpc.Client(config.peerEndpoint, credentials, options));
  }

  private gateway(identity: WalletIdentity): Gateway {
    const key = `${identity.mspId}\n${identity.label}`;
    let gw = this.gateways.get(key);
    if (!gw) {
      const deadline = () => ({ deadline: Date.now() + this.config.timeoutMs });
      gw = connect({
        client: this.client,
        identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificate) },
        signer: signers.newPrivateKeySigner(createPrivateKey(identity.privateKey)),
        hash: hash.sha256,
        evaluateOptions: deadline,
        endorseOptions: deadline,
        submitOptions: deadline,
        commitStatusOptions: deadline,
      });
      this.gateways.set(key, gw);
    }
    return gw;
  }

  private contract(identity: WalletIdentity, chaincode = this.config.chaincode): Contract {
    return this.gateway(identity).getNetwork(this.config.channel).getContract(chaincode);
  }

  async *blocks(identity: WalletIdentity, fromBlock: number, signal: AbortSignal): AsyncIterable<LogBlock> {
    const network = this.gateway(identity).getNetwork(this.config.channel);
    const events = await network.getBlockEvents({ startBlock: BigInt(fromBlock) });
    const stop = () => events.close();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const block of events) yield logBlockOfFabric(block, this.config.chaincode);
    } finally {
      signal.removeEventListener('abort', stop);
      events.close();
    }
  }

  async submit(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Committed> {
    let submitted: Awaited<ReturnType<Contract['submitAsync']>>;
    try {
      submitted = await this.contract(identity).submitAsync(fcn, { arguments: [...args] });
    } catch (e) {
      throw toLedgerError(e, 'endorse');
    }
    let status: Awaited<ReturnType<typeof submitted.getStatus>>;
    try {
      status = await submitted.getStatus();
    } catch (e) {
      throw toLedgerError(e, 'endorse');
    }
    if (!status.successful) {
      const reason =
        Object.entries(StatusCode).find(([, v]) => v === status.code)?.[0] ?? String(status.code);
      throw new LedgerError('commit', `transaction ${status.transactionId} was invalidated: ${reason}`, {
        txId: status.transactionId,
        reason,
        retryable: reason === 'MVCC_READ_CONFLICT' || reason === 'PHANTOM_READ_CONFLICT',
      });
    }
    return {
      result: Buffer.from(submitted.getResult()).toString('utf8'),
      txId: status.transactionId,
      block: Number(status.blockNumber),
    };
  }

  async evaluate(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<string> {
    try {
      return Buffer.from(await this.contract(identity).evaluate(fcn, { arguments: [...args] })).toString(
        'utf8',
      );
    } catch (e) {
      throw toLedgerError(e, 'evaluate');
    }
  }

  /** qscc `GetBlockByTxID`: the block holding a transaction. */
  async blockOf(identity: WalletIdentity, txId: string): Promise<number | undefined> {
    try {
      const block = await this.contract(identity, 'qscc').evaluate('GetBlockByTxID', {
        arguments: [this.config.channel, txId],
      });
      return blockNumberOf(block);
    } catch {
      return undefined;
    }
  }

  height(): number | undefined {
    return this.lastHeight;
  }

  private lastHeight: number | undefined;

  /** Ready when the peer answers qscc `GetChainInfo` for the channel as this identity. */
  async checkReady(identity: WalletIdentity | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.client.waitForReady(Date.now() + Math.min(this.config.timeoutMs, 5000), (e) =>
        e
          ? reject(
              new LedgerError('connect', `peer ${this.config.peerEndpoint} is not reachable: ${e.message}`, {
                retryable: true,
              }),
            )
          : resolve(),
      );
    });
    if (!identity) return;
    try {
      const info = await this.contract(identity, 'qscc').evaluate('GetChainInfo', {
        arguments: [this.config.channel],
      });
      this.lastHeight = heightOf(info);
    } catch (e) {
      throw toLedgerError(e, 'evaluate');
    }
  }

  async close(): Promise<void> {
    for (const gw of this.gateways.values()) gw.close();
    this.gateways.clear();
    this.client.close();
  }
}
