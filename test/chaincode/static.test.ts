/**
 * What a Fabric peer with LevelDB would refuse or endorse inconsistently, checked on the contract as it
 * ships — the bundle `npm run build:chaincode` makes (chaincode/build.mjs: our code, core and the npm
 * packages it inlines): no rich queries or private data (LevelDB state only), no composite-key ranges (our
 * indexes are simple keys), nothing non-deterministic (clocks, randomness, timers, environment) except
 * where a listed reason says why the result cannot depend on it. And the transaction list the shim
 * derives from the decorators, against the table in docs/contract.md §3.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import './quiet-logs.js';
import { contracts } from '../../chaincode/contract.js';
import { chaincodeFromContracts } from '../../engine/shim.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Builds the chaincode bundle exactly as it ships, from this build's tsc output. */
function shippedBundle(): string {
  const out = mkdtempSync(path.join(tmpdir(), 'torgo-chaincode-'));
  after(() => rmSync(out, { recursive: true, force: true }));
  execFileSync(process.execPath, [path.join(root, 'chaincode', 'build.mjs'), out], { stdio: 'pipe' });
  return readFileSync(path.join(out, 'index.cjs'), 'utf8');
}

/** The bundle cut at esbuild's `// <module path>` markers: module path → its code. */
function modulesOf(bundle: string): Map<string, string> {
  const modules = new Map<string, string>();
  const marker = /^\/\/ ((?:dist|node_modules)\/\S+\.c?js)$/gm;
  const marks = [...bundle.matchAll(marker)];
  marks.forEach((m, i) => {
    const end = marks[i + 1]?.index ?? bundle.length;
    const prior = modules.get(m[1]!) ?? '';
    modules.set(m[1]!, prior + bundle.slice(m.index + m[0].length, end));
  });
  return modules;
}

/** Code without comments (so a comment may name what the code must not call). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
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
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, 'timing'],
  [/\bprocess\.env\b/, 'peer-dependent configuration'],
];

/**
 * Where the shipped bundle may use what FORBIDDEN names, and why the contract's answers cannot depend
 * on it: module → the reasons (FORBIDDEN's) allowed there. A listed use that disappears fails too.
 */
const ALLOWED: Record<string, { why: string[]; because: string }> = {
  'node_modules/@noble/hashes/utils.js': {
    why: ['randomness'],
    because:
      'randomBytes serves key generation and hedged signing, which the contract never calls (it verifies)',
  },
  'node_modules/@noble/post-quantum/utils.js': {
    why: ['randomness'],
    because: 're-exports randomBytes for keygen and signing, which the contract never calls',
  },
  'dist/core/crypto/noble.js': {
    why: ['randomness'],
    because: 'generateSeed() makes new keys, never called by the contract',
  },
  'dist/core/crypto/native.js': {
    why: ['randomness'],
    because: 'generateSeed() makes new keys, never called by the contract',
  },
  // core/crypto/der.ts uses the SubjectPublicKeyInfo, AlgorithmIdentifier and PrivateKeyInfo schemas of
  // @peculiar/asn1-x509; the package's index also defines the certificate schemas below, never built by core.
  'node_modules/@peculiar/asn1-x509/build/cjs/validity.js': {
    why: ['wall clock'],
    because: "Validity's field initialisers (new Date()) run only when a certificate's Validity is built",
  },
  'node_modules/@peculiar/asn1-x509/build/cjs/extensions/invalidity_date.js': {
    why: ['wall clock'],
    because: "InvalidityDate's field initialiser runs only when a CRL entry extension is built",
  },
};

describe('the contract bundle as shipped', () => {
  const modules = modulesOf(shippedBundle());

  it('holds the contract, core and the inlined packages', () => {
    for (const m of ['dist/chaincode/contract.js', 'dist/chaincode/index.js', 'dist/core/receipt/receipt.js'])
      assert.ok(modules.has(m), `${m} in ${[...modules.keys()].join(', ')}`);
    assert.ok(modules.size >= 30, `found ${modules.size} modules`);
  });

  it("takes core's Node crypto platform (#crypto-backend, condition node), which picks ML-DSA at run time", () => {
    assert.ok(modules.has('dist/core/crypto/platform/node.js'), 'platform/node.js is bundled');
    assert.ok(!modules.has('dist/core/crypto/platform/portable.js'), 'the browser platform is not');
    // Noble stays in: a peer whose Node lacks ML-DSA (Fabric's Node 20/22 images) verifies with it.
    assert.ok(modules.has('dist/core/crypto/noble.js') && modules.has('dist/core/crypto/native.js'));
    assert.ok(!modules.has('dist/core/crypto/verify-pool.js'), 'no worker pool or memo on a peer');
  });

  it('uses no API a LevelDB peer lacks, and nothing non-deterministic without a listed reason', () => {
    const found: string[] = [];
    const used = new Set<string>();
    for (const [module, text] of modules) {
      const body = code(text);
      for (const [pattern, why] of FORBIDDEN) {
        const m = new RegExp(pattern.source, 'g').exec(body);
        if (m === null) continue;
        if (ALLOWED[module]?.why.includes(why)) used.add(`${module}: ${why}`);
        else found.push(`${module}: "${m[0]}" (${why})`);
      }
    }
    assert.deepEqual(found, []);
    const listed = Object.entries(ALLOWED).flatMap(([module, a]) => a.why.map((w) => `${module}: ${w}`));
    assert.deepEqual(
      listed.filter((l) => !used.has(l)),
      [],
      'allowances no longer needed',
    );
  });

  it('the checker sees through comments but not through code, and groups its alternatives', () => {
    const timing = FORBIDDEN.find(([, w]) => w === 'timing')![0];
    assert.match(code('x = Date.now();'), FORBIDDEN.find(([, w]) => w === 'wall clock')![0]);
    assert.doesNotMatch(code('// Date.now() in a comment'), /\bDate\.now\b/);
    assert.doesNotMatch('new Date(seconds * 1000)', /\bnew Date\(\s*\)/);
    assert.match('setImmediate(f)', timing);
    assert.doesNotMatch('resetImmediately', timing, 'word boundaries on every alternative');
    assert.doesNotMatch('mySetTimeoutish', timing);
  });
});

describe('transaction metadata (as the shim derives it from the decorators)', () => {
  type Metadata = {
    contracts: Record<
      string,
      {
        transactions: {
          name: string;
          tag: string[];
          parameters: { name: string; schema: { type: string } }[];
          returns?: { type: string };
        }[];
      }
    >;
  };
  const cc = chaincodeFromContracts(contracts, 'torgo', '0') as unknown as { metadata: Metadata };
  const txs = cc.metadata.contracts['AuditContract']!.transactions;

  /** The rows of docs/contract.md §3's table: `| kind | \`name(params)\` | who | returns |`. */
  function documented(): string[] {
    const doc = readFileSync(path.join(root, 'docs', 'contract.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## 3. Transactions'), doc.indexOf('### 3.1'));
    return [...section.matchAll(/^\| (submit|evaluate) \| `(\w+\([\w, ]*\))` \|/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
  }

  it('lists exactly the transactions of docs/contract.md §3, with their parameters and kinds', () => {
    const doc = documented();
    assert.ok(doc.length >= 10, `the table has ${doc.length} rows`);
    const list = txs.map(
      (t) =>
        `${t.tag.includes('SUBMIT') ? 'submit' : 'evaluate'} ${t.name}(${t.parameters.map((p) => p.name).join(', ')})`,
    );
    assert.deepEqual(list.sort(), doc.sort());
  });

  it('every transaction takes strings and returns a string', () => {
    for (const t of txs) {
      assert.equal(t.returns?.type, 'string', t.name);
      for (const p of t.parameters) assert.equal(p.schema.type, 'string', t.name);
    }
  });
});
