/**
 * The Fabric internals chaincode/fabric-internals.ts reaches, checked against what is installed: the
 * pinned versions, every internal path, the shape of every value used, and the lockfile facts that bound
 * how far its patches reach. A Fabric upgrade that moves or reshapes any of them fails here first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import './quiet-logs.js';
import {
  FABRIC_PINS,
  type FabricSdkLoggerHolder,
  NETWORK_INTERNAL_PATHS,
  networkInternals,
  quietFabricSdk,
  dispatchCostsTrimmed,
  SHIM_INTERNAL_PATHS,
  setChaincodeLogLevel,
  shimInternals,
  shimRequire,
} from '../../chaincode/fabric-internals.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const rootRequire = createRequire(path.join(root, 'package.json'));
const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** The package.json of `name` as `req` resolves it. */
function installed(req: NodeJS.Require, name: string): { version: string; dir: string } {
  let dir = path.dirname(req.resolve(name));
  while (!dir.endsWith(path.join('node_modules', name))) dir = path.dirname(dir);
  return { version: readJson(path.join(dir, 'package.json'))['version'] as string, dir };
}

type LockPackages = Record<string, { version?: string; dependencies?: Record<string, string> }>;
const lock = readJson(path.join(root, 'package-lock.json'))['packages'] as LockPackages;

/** The lockfile entries that depend on `name` and resolve it to the top-level copy. */
function dependentsOfTopLevel(name: string): string[] {
  return Object.entries(lock)
    .filter(
      ([key, entry]) => entry.dependencies?.[name] !== undefined && !(`${key}/node_modules/${name}` in lock),
    )
    .map(([key]) => key)
    .sort();
}

describe('Fabric internals (chaincode/fabric-internals.ts)', () => {
  it('package.json pins every Fabric package exactly, at the versions the internals were read from', () => {
    const deps = readJson(path.join(root, 'package.json'))['dependencies'] as Record<string, string>;
    for (const name of ['fabric-shim', 'fabric-contract-api', 'fabric-shim-api', 'fabric-common'] as const)
      assert.equal(deps[name], FABRIC_PINS[name], `${name} pinned exactly`);
    for (const name of [
      'fabric-network',
      'fabric-ca-client',
      '@hyperledger/fabric-gateway',
      '@hyperledger/fabric-protos',
    ])
      assert.match(deps[name] ?? '', /^\d+\.\d+\.\d+$/, `${name} pinned exactly`);
    const chaincodeDeps = readJson(path.join(root, 'chaincode', 'package.json'))['dependencies'] as Record<
      string,
      string
    >;
    assert.equal(
      chaincodeDeps['fabric-shim'],
      FABRIC_PINS['fabric-shim'],
      'the deployed chaincode runs the same shim',
    );
    assert.equal(chaincodeDeps['fabric-contract-api'], FABRIC_PINS['fabric-contract-api']);
  });

  it('the installed copies are the pinned versions, and fabric-shim uses the same fabric-contract-api', () => {
    const fromShim = shimRequire();
    assert.equal(installed(rootRequire, 'fabric-shim').version, FABRIC_PINS['fabric-shim']);
    assert.equal(installed(rootRequire, 'fabric-contract-api').version, FABRIC_PINS['fabric-contract-api']);
    assert.equal(installed(rootRequire, 'fabric-shim-api').version, FABRIC_PINS['fabric-shim-api']);
    assert.equal(installed(rootRequire, 'fabric-common').version, FABRIC_PINS['fabric-common']);
    assert.equal(installed(rootRequire, 'fabric-network').version, FABRIC_PINS['fabric-network']);
    assert.equal(installed(fromShim, '@fidm/x509').version, FABRIC_PINS['@fidm/x509']);
    assert.equal(installed(fromShim, 'winston').version, FABRIC_PINS.winston);
    // One fabric-contract-api: the decorators' metadata the contract writes is the one the dispatcher reads.
    assert.equal(fromShim.resolve('fabric-contract-api'), rootRequire.resolve('fabric-contract-api'));
  });

  it('every internal path resolves', () => {
    for (const [what, internal] of Object.entries({ ...SHIM_INTERNAL_PATHS, ...NETWORK_INTERNAL_PATHS }))
      assert.doesNotThrow(() => rootRequire.resolve(internal), `${what}: ${internal}`);
    assert.doesNotThrow(() => rootRequire.resolve('fabric-common/lib/Utils.js'));
  });

  it('every value reached has the shape the engine and the patches use', () => {
    const i = shimInternals();
    const proto = (i.ChaincodeFromContract as { prototype: Record<string, unknown> }).prototype;
    assert.equal(typeof i.ChaincodeFromContract, 'function');
    assert.equal(typeof proto['Init'], 'function');
    assert.equal(typeof proto['Invoke'], 'function');
    const stub = (i.ChaincodeStub as { prototype: Record<string, unknown> }).prototype;
    for (const method of ['createCompositeKey', 'splitCompositeKey', 'getTxTimestamp', 'getState'])
      assert.equal(typeof stub[method], 'function', `ChaincodeStub.${method}`);
    assert.equal((i.ChaincodeFromContract as () => void).length >= 2, true, '(contracts, serializers, …)');
    const serializer = i.JSONSerializer as { prototype: Record<string, unknown> };
    assert.equal(typeof serializer.prototype['toBuffer'], 'function');
    assert.equal(typeof serializer.prototype['fromBuffer'], 'function');
    assert.equal(typeof i.DataMarshall.prototype.handleParameters, 'function');
    assert.equal(
      typeof (i.DataMarshall.prototype as unknown as Record<string, unknown>)['fromWireBuffer'],
      'function',
    );
    assert.equal(typeof i.ClientIdentity, 'function');
    assert.equal(typeof (i.Long as { fromNumber: unknown }).fromNumber, 'function');
    for (const logger of [i.shimLogger, i.contractLogger]) {
      assert.equal(typeof logger.setLevel, 'function');
      assert.equal(typeof logger.getLogger, 'function');
    }
    assert.equal(typeof i.x509.Certificate.fromPEM, 'function');
    assert.equal(typeof i.winston.Logger.prototype.write, 'function');
    assert.equal(typeof i.winston.Logger.prototype.isLevelEnabled, 'function');
  });

  it("fabric-network's error classes, block-event factory and query handler have the shapes the driver uses", () => {
    const n = networkInternals();
    const fabricError = new n.FabricError('probe');
    assert.ok(fabricError instanceof Error);
    assert.equal(fabricError.message, 'probe');
    const transactionError = new n.TransactionError({
      message: 'probe',
      transactionId: 'tx',
      transactionCode: 'MVCC_READ_CONFLICT',
    });
    assert.ok(transactionError instanceof n.FabricError, 'TransactionError extends FabricError');
    assert.equal(transactionError.transactionCode, 'MVCC_READ_CONFLICT');
    assert.equal(typeof n.newFullBlockEvent, 'function');
    assert.equal(typeof n.SingleQueryHandler.prototype.evaluate, 'function');
  });

  it('setChaincodeLogLevel reaches loggers created before it (the contract decorators log at import)', () => {
    const { contractLogger, shimLogger } = shimInternals();
    const before = process.env['CORE_CHAINCODE_LOGGING_LEVEL'];
    const loggers = [contractLogger.getLogger('probe-before'), shimLogger.getLogger('probe-before')] as {
      isLevelEnabled(level: string): boolean;
    }[];
    try {
      setChaincodeLogLevel('INFO');
      for (const l of loggers) assert.equal(l.isLevelEnabled('info'), true);
      setChaincodeLogLevel('ERROR');
      for (const l of loggers) {
        assert.equal(l.isLevelEnabled('info'), false);
        assert.equal(l.isLevelEnabled('error'), true);
      }
      setChaincodeLogLevel('CRITICAL'); // winston has no `fatal`: nothing at all is written
      for (const l of loggers) assert.equal(l.isLevelEnabled('error'), false);
      assert.equal(process.env['CORE_CHAINCODE_LOGGING_LEVEL'], 'CRITICAL');
    } finally {
      setChaincodeLogLevel((before as 'CRITICAL' | undefined) ?? 'CRITICAL');
    }
  });

  it('fabric-common takes its module loggers from global.hfc.logger, which quietFabricSdk fills', () => {
    const holder = globalThis as FabricSdkLoggerHolder;
    const saved = holder.hfc;
    try {
      const lines: unknown[][] = [];
      const record = (...args: unknown[]): void => {
        lines.push(args);
      };
      holder.hfc = { logger: { debug: record, info: record, warn: record, error: record } };
      const utils = rootRequire('fabric-common/lib/Utils.js') as {
        getLogger(name: string): Record<'warn' | 'error', (...args: unknown[]) => void>;
      };
      utils.getLogger('probe').warn('hello');
      assert.deepEqual(lines, [['[probe]: hello']]);
      holder.hfc = undefined;
      quietFabricSdk();
      assert.equal(typeof (globalThis as FabricSdkLoggerHolder).hfc?.logger?.error, 'function');
      assert.doesNotThrow(() => utils.getLogger('probe').error('quiet'));
    } finally {
      holder.hfc = saved;
    }
  });

  it('the patched @fidm/x509 and winston copies are used by fabric-shim and fabric-contract-api alone', () => {
    assert.deepEqual(dependentsOfTopLevel('@fidm/x509'), ['node_modules/fabric-shim']);
    assert.equal(lock['node_modules/winston']?.version, FABRIC_PINS.winston);
    assert.deepEqual(dependentsOfTopLevel('winston'), [
      'node_modules/fabric-contract-api',
      'node_modules/fabric-shim',
    ]);
    // fabric-common and fabric-ca-client keep their own winston 2, which nothing here patches.
    assert.match(lock['node_modules/fabric-common/node_modules/winston']?.version ?? '', /^2\./);
  });

  it('the dispatcher patches wait for the engine: importing the contract applies none', async () => {
    await import('../../chaincode/contract.js');
    assert.equal(dispatchCostsTrimmed(), false);
    const { chaincodeFromContracts } = await import('../../engine/shim.js');
    const { contracts } = await import('../../chaincode/contract.js');
    chaincodeFromContracts(contracts, 'probe', '0');
    assert.equal(dispatchCostsTrimmed(), true);
  });
});
