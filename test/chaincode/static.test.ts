/**
 * What a Fabric peer with LevelDB would refuse or endorse inconsistently, checked on the source:
 * no rich queries or private data (LevelDB state only), no composite-key ranges (our indexes are
 * simple keys), nothing non-deterministic (clocks, randomness). And the transaction list the
 * shim derives from the decorators: names, parameters, submit/evaluate, string returns.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import './quiet-logs.js';
import { contracts } from '../../chaincode/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const sourceDir = path.join(root, 'chaincode');
const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.ts'));

/** Source without comments (so a comment may name what the code must not call). */
function code(file: string): string {
  return readFileSync(path.join(sourceDir, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
}

const FORBIDDEN: [RegExp, string][] = [
  [/\bgetQueryResult(WithPagination)?\b/, 'rich queries need CouchDB'],
  [/\b(get|put|delete|purge)PrivateData\w*\b/, 'private data collections'],
  [/\bgetPrivateDataQueryResult\b/, 'private data rich queries'],
  [/\bsetPrivateDataValidationParameter\b/, 'private data'],
  [/\bgetStateByPartialCompositeKey\w*\b/, 'composite-key scans: indexes are simple keys'],
  [/\bcreateCompositeKey\b/, 'composite keys cannot be range-scanned'],
  [/\b(set|get)StateValidationParameter\b/, 'key-level endorsement'],
  [/\binvokeChaincode\b/, 'one chaincode'],
  [/\bDate\.now\b/, 'wall clock'],
  [/\bnew Date\(\s*\)/, 'wall clock'],
  [/\bDate\(\s*\)/, 'wall clock'],
  [/\bperformance\.now\b/, 'wall clock'],
  [/\bprocess\.hrtime\b/, 'wall clock'],
  [/\bMath\.random\b/, 'randomness'],
  [/\b(randomBytes|randomUUID|getRandomValues|generatePrivateKey|newUlid)\b/, 'randomness'],
  [/\bsetTimeout|setInterval|setImmediate\b/, 'timing'],
  [/\bprocess\.env\b/, 'peer-dependent configuration'],
];

describe('contract source', () => {
  it('has sources to check', () => {
    assert.ok(sources.length >= 10, `found ${sources.length} files`);
    assert.ok(sources.includes('contract.ts'));
  });

  for (const file of sources) {
    it(`${file} uses no API a LevelDB peer lacks and nothing non-deterministic`, () => {
      const text = code(file);
      for (const [pattern, why] of FORBIDDEN) {
        const m = pattern.exec(text);
        assert.equal(m, null, `${file}: "${m?.[0]}" (${why})`);
      }
    });
  }

  it('the checker itself sees through comments but not through code', () => {
    assert.match('x = Date.now();', FORBIDDEN.find(([, w]) => w === 'wall clock')![0]);
    assert.doesNotMatch('new Date(seconds * 1000)', /\bnew Date\(\s*\)/);
  });
});

describe('transaction metadata (as the shim derives it from the decorators)', () => {
  const require = createRequire(import.meta.url);
  const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as new (
    ...args: unknown[]
  ) => {
    metadata: {
      contracts: Record<
        string,
        {
          transactions: {
            name: string;
            tag: string[];
            parameters: { name: string }[];
            returns?: { type: string };
          }[];
        }
      >;
    };
  };
  const { JSONSerializer } = require('fabric-contract-api') as { JSONSerializer: unknown };
  const cc = new ChaincodeFromContract(
    [...contracts],
    { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } },
    {},
    'torgo',
    '0',
  );
  const txs = cc.metadata.contracts['AuditContract']!.transactions;

  it('lists exactly the documented transactions with their parameters and kinds', () => {
    const list = txs.map(
      (t) =>
        `${t.tag.includes('SUBMIT') ? 'submit' : 'evaluate'} ${t.name}(${t.parameters.map((p) => p.name).join(', ')})`,
    );
    assert.deepEqual(list.sort(), [
      'evaluate getCheckpoint(origin)',
      'evaluate getCheckpointHistory(origin)',
      'evaluate getInfo()',
      'evaluate getKey(keyId)',
      'evaluate getKeyHistory(keyId)',
      'evaluate getReceipt(id)',
      'evaluate queryReceipts(queryJson)',
      'submit appendReceipt(muText)',
      'submit appendReceipts(muTextsJson)',
      'submit recordCheckpoint(noteText)',
      'submit registerKey(publicKey, label)',
      'submit revokeKey(keyId, reason)',
      'submit rotateKey(oldKeyId, newPublicKey)',
    ]);
  });

  it('every transaction takes strings and returns a string', () => {
    for (const t of txs) {
      assert.equal(t.returns?.type, 'string', t.name);
      for (const p of t.parameters as unknown as { schema: { type: string } }[])
        assert.equal(p.schema.type, 'string', t.name);
    }
  });
});
