/** Writes test/vectors/log/checkpoint-mldsa65.json and statement-mldsa65.json. Deterministic: re-running changes nothing. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCheckpointVector } from './checkpoint-vectors.js';
import { VECTOR_DIR } from './log-vectors.js';
import { buildStatementVector } from './statement-vectors.js';

for (const [name, vector] of [
  ['checkpoint-mldsa65.json', buildCheckpointVector()],
  ['statement-mldsa65.json', buildStatementVector()],
] as const) {
  const file = join(VECTOR_DIR, name);
  writeFileSync(file, `${JSON.stringify(vector, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
