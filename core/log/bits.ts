/**
 * Bit arithmetic on tree sizes and leaf indexes. They are JavaScript numbers (safe integers,
 * < 2^53), and the `^ & >>` operators truncate to 32 bits, so each helper works on the high and
 * low 32-bit halves separately. A log of 2^53 leaves is far beyond any ledger we will run.
 */

const TWO_32 = 2 ** 32;

function high(x: number): number {
  return Math.floor(x / TWO_32);
}

function low(x: number): number {
  return x >>> 0;
}

/** a XOR b. */
export function xor(a: number, b: number): number {
  return ((high(a) ^ high(b)) >>> 0) * TWO_32 + ((low(a) ^ low(b)) >>> 0);
}

/** The number of bits needed to write x (Go's bits.Len64): 0 for 0, 1 for 1, 3 for 5. */
export function bitLength(x: number): number {
  const h = high(x);
  return h !== 0 ? 64 - Math.clz32(h) : 32 - Math.clz32(low(x));
}

function popcount32(v: number): number {
  let n = 0;
  for (let x = v >>> 0; x !== 0; x = (x & (x - 1)) >>> 0) n++;
  return n;
}

/** The number of one bits in x. */
export function onesCount(x: number): number {
  return popcount32(high(x)) + popcount32(low(x));
}

function trailingZeros32(v: number): number {
  return 31 - Math.clz32(v & -v);
}

/** The number of trailing zero bits of x > 0 (x is a multiple of 2^result). */
export function trailingZeros(x: number): number {
  const l = low(x);
  return l !== 0 ? trailingZeros32(l) : 32 + trailingZeros32(high(x));
}

/** x >> n. */
export function shiftRight(x: number, n: number): number {
  return Math.floor(x / 2 ** n);
}

/** Bit i of x (0 or 1). */
export function bitAt(x: number, i: number): number {
  return shiftRight(x, i) % 2;
}

/** True for 1, 2, 4, 8, … */
export function isPowerOfTwo(x: number): boolean {
  return x > 0 && onesCount(x) === 1;
}

/**
 * How a value that should be a size or an index reads in an error message. Safe on any input:
 * `String(x)` throws on objects like `{"toString": 1}`, which JSON.parse happily produces.
 */
export function describeInteger(value: unknown): string {
  return typeof value === 'number' || typeof value === 'bigint'
    ? String(value)
    : `a ${value === null ? 'null' : typeof value}`;
}
