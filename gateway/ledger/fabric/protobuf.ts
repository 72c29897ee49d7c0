/**
 * The two numbers the driver reads from qscc answers, decoded without a protobuf library:
 * `common.Block.header.number` (Block field 1 → BlockHeader field 1, uint64) and
 * `common.BlockchainInfo.height` (field 1, uint64). Protobuf wire format:
 * https://protobuf.dev/programming-guides/encoding/ (varint = 0, length-delimited = 2).
 */

function varint(bytes: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length && shift < 70n; i++) {
    const b = bytes[i]!;
    value |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  throw new Error('truncated protobuf varint');
}

/** The value of the first field `field` in a message: a bigint for varints, bytes for length-delimited. */
function field(bytes: Uint8Array, wanted: number): bigint | Uint8Array | undefined {
  let at = 0;
  while (at < bytes.length) {
    const tag = varint(bytes, at);
    at = tag.next;
    const number = Number(tag.value >> 3n);
    const wire = Number(tag.value & 7n);
    if (wire === 0) {
      const v = varint(bytes, at);
      if (number === wanted) return v.value;
      at = v.next;
    } else if (wire === 2) {
      const len = varint(bytes, at);
      const start = len.next;
      const end = start + Number(len.value);
      if (end > bytes.length) throw new Error('truncated protobuf field');
      if (number === wanted) return bytes.subarray(start, end);
      at = end;
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
  return undefined;
}

/** `common.Block` → header.number. */
export function blockNumberOf(block: Uint8Array): number {
  const header = field(block, 1);
  if (!(header instanceof Uint8Array)) throw new Error('block has no header');
  const number = field(header, 1);
  return number === undefined ? 0 : Number(number);
}

/** `common.BlockchainInfo` → height. */
export function heightOf(info: Uint8Array): number {
  const height = field(info, 1);
  return typeof height === 'bigint' ? Number(height) : 0;
}
