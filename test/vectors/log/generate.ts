/** Writes test/vectors/log/checkpoint-mldsa65.json. Deterministic: re-running changes nothing. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCheckpointVector } from './checkpoint-vectors.js';
import { VECTOR_DIR } from './log-vectors.js';

const file = join(VECTOR_DIR, 'checkpoint-mldsa65.json');
writeFileSync(file, `${JSON.stringify(buildCheckpointVector(), null, 2)}\n`);
console.log(`wrote ${file}`);
