/** Writes test/vectors/receipts/*.json (npm run vectors). Deterministic: re-running changes nothing. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNegativeVectors, buildPositiveVectors } from './receipt-vectors.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'test', 'vectors', 'receipts');
mkdirSync(dir, { recursive: true });
const positives = buildPositiveVectors();
for (const p of positives) writeFileSync(join(dir, `${p.name}.json`), `${JSON.stringify(p, null, 2)}\n`);
const negatives = buildNegativeVectors(positives[0]!, positives.find((p) => p.name === 'multi-signature')!);
writeFileSync(join(dir, 'negative.json'), `${JSON.stringify(negatives, null, 2)}\n`);
console.log(`wrote ${positives.length} positive and ${negatives.length} negative receipt vectors to ${dir}`);
