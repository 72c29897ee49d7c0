/**
 * fabric-shim 2.5.8's `ChaincodeFromContract.prototype.invokeFunctionality`, line for line, with one
 * difference: its debug lines are built only when the dispatcher's logger would write a debug line.
 *
 * The original formats `logger.debug(`${JSON.stringify(result)},…`)` for every transaction whatever the
 * level: a page of 50 receipts is a ~290 KB string, and JSON-escaping it again for a line nobody writes
 * cost ~3–4 ms per page, the largest single cost of a query (docs/performance.md §11, "Queries at a
 * million receipts"). Everything else — routing, context, parameters, the before/around/after hooks,
 * the wire encoding, the success and error responses — is the original's, in the original's order;
 * test/engine/fast-paths.test.ts runs both on the same invocations and compares every response,
 * and fails if the installed original's source changes.
 */
import { createRequire } from 'node:module';

/** The dispatcher's own state this method reads (set by its constructor). */
interface Dispatcher {
  contractImplementations: Record<string, { contractInstance: ContractLike; dataMarshall: DataMarshall }>;
  metadata: { contracts: Record<string, { transactions: TransactionDescriptor[] }> };
  _splitFunctionName(fcn: string): { contractName: string; function: string };
}

interface TransactionDescriptor {
  name: string;
  returns?: { schema?: unknown };
}

interface ContractLike {
  createContext(): ContextLike;
  beforeTransaction(ctx: ContextLike): Promise<void>;
  aroundTransaction(ctx: ContextLike, fn: string, parameters: unknown[]): Promise<unknown>;
  afterTransaction(ctx: ContextLike, result: unknown): Promise<void>;
  unknownTransaction(ctx: ContextLike): Promise<void>;
}

interface ContextLike {
  setChaincodeStub(stub: unknown): void;
  setClientIdentity(identity: unknown): void;
  logging: unknown;
}

interface DataMarshall {
  handleParameters(fn: TransactionDescriptor, args: Buffer[], loggerPrefix: string): unknown[];
  toWireBuffer(result: unknown, schema: unknown, loggerPrefix: string): Buffer | undefined;
}

interface InvokeStub {
  getBufferArgs(): Buffer[];
  getTxID(): string;
  getChannelID(): string;
}

interface ShimLogger {
  debug(message: string): void;
  error(message: string): void;
  isLevelEnabled(level: string): boolean;
}

interface ShimModules {
  shim: { success(payload?: Buffer): unknown; error(message: string): unknown };
  ClientIdentity: new (stub: unknown) => unknown;
  utils: { generateLoggingPrefix(channelId: string, txId: string): string };
  Logger: { setLevel(level: string): void; getLogger(name?: string): ShimLogger };
  logger: ShimLogger;
}

/** The modules the original reaches from its own file, as it resolves them (`dispatcherPath`'s folder). */
function shimModules(dispatcherPath: string): ShimModules {
  const req = createRequire(dispatcherPath);
  const shim = req('../chaincode') as ShimModules['shim'] & { ClientIdentity: ShimModules['ClientIdentity'] };
  const Logger = req('../logger') as ShimModules['Logger'];
  return {
    shim,
    ClientIdentity: shim.ClientIdentity,
    utils: req('../utils/utils') as ShimModules['utils'],
    Logger,
    // The dispatcher's module logger: fabric-shim's getLogger returns the one instance per name.
    logger: Logger.getLogger('contracts-spi/chaincodefromcontract.js'),
  };
}

/** `invokeFunctionality` over the modules of the dispatcher at `dispatcherPath`. */
export function invokeFunctionalityFor(dispatcherPath: string) {
  const { shim, ClientIdentity, utils, Logger, logger } = shimModules(dispatcherPath);
  const debugging = (): boolean => logger.isLevelEnabled('debug');

  return async function invokeFunctionality(this: Dispatcher, stub: InvokeStub): Promise<unknown> {
    const bufferArgs = stub.getBufferArgs();
    if (!bufferArgs || bufferArgs.length < 1) {
      const message = 'Default initiator successful.';
      return shim.success(Buffer.from(message));
    }

    const fAndP = bufferArgs[0]!.toString();
    const txArgs = bufferArgs.slice(1);

    const txID = stub.getTxID();
    const channelID = stub.getChannelID();
    const loggerPrefix = utils.generateLoggingPrefix(channelID, txID);
    try {
      const { contractName: cn, function: fn } = this._splitFunctionName(fAndP);
      if (debugging()) logger.debug(`${loggerPrefix} Invoking ${cn} ${fn}`);

      const contractData = this.contractImplementations[cn];
      if (!contractData) {
        throw new Error(`Contract name is not known: ${cn}`);
      }

      const transactionDescriptor = this.metadata.contracts[cn]!;

      const contractInstance = contractData.contractInstance;
      const dataMarshall = contractData.dataMarshall;

      const ctx = contractInstance.createContext();
      ctx.setChaincodeStub(stub);
      ctx.setClientIdentity(new ClientIdentity(stub));
      ctx.logging = {
        setLevel: Logger.setLevel,
        getLogger: (name?: string) => {
          return Logger.getLogger(name ? `${cn}:${name}` : cn);
        },
      };

      const functionExists = transactionDescriptor.transactions.find((transaction) => {
        return transaction.name === fn;
      });

      if (functionExists) {
        if (debugging()) logger.debug(`${JSON.stringify(functionExists)}`);
        const parameters = dataMarshall.handleParameters(functionExists, txArgs, loggerPrefix);

        await contractInstance.beforeTransaction(ctx);

        const result = await contractInstance.aroundTransaction(ctx, fn, parameters);

        await contractInstance.afterTransaction(ctx, result);

        let returnSchema: { schema?: unknown } = {};
        if (functionExists.returns) {
          returnSchema = functionExists.returns;
        }
        if (debugging()) logger.debug(`${JSON.stringify(result)},${String(returnSchema.schema)}`);
        return shim.success(dataMarshall.toWireBuffer(result, returnSchema.schema, loggerPrefix));
      }
      try {
        await contractInstance.unknownTransaction(ctx);
        return shim.success();
      } catch (error) {
        return shim.error((error as Error).message);
      }
    } catch (error) {
      logger.error(`${loggerPrefix} ${String(error)}`);
      return shim.error((error as Error).message);
    }
  };
}
