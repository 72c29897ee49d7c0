/** Loading the transparency-log vectors (test/vectors/log/README.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../../../core/encoding.js';

/** test/vectors/log, from dist/test/vectors/log (compiled) — both sit four levels below the root. */
export const VECTOR_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'vectors', 'log');

export function loadVectorFile<T>(name: string): T {
  return JSON.parse(readFileSync(join(VECTOR_DIR, name), 'utf8')) as T;
}

/** A vector list that loaded nothing would make a green run that checked nothing: fail instead. */
export function nonEmpty<T>(cases: readonly T[] | undefined, what: string): readonly T[] {
  if (!Array.isArray(cases) || cases.length === 0) throw new Error(`no ${what} vectors loaded`);
  return cases;
}

export const hex = (s: string): Uint8Array => fromHex(s, 'E_PROOF_INVALID', 'vector');

export interface Rfc6962Tree {
  hasher: {
    emptyRoot: string;
    leaves: { entry: string; hash: string }[];
    children: { left: string; right: string; hash: string }[];
  };
  leaves: string[];
  nodeHashes: string[][];
  roots: string[];
  inclusion: { leafIndex: number; treeSize: number; proof: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
}

export interface UpstreamCase<T> {
  file: string;
  commit: string;
  case: T;
}

export interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

export interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
