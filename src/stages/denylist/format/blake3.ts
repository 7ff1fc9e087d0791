// BLAKE3 (256-bit output, unkeyed), the hash of the spec's own double-hash example: node:crypto has
// none. A plain one-shot implementation of the BLAKE3 paper's reference algorithm (chunks of 1 KiB,
// 64-byte blocks, a binary tree of parent nodes); inputs here are a CID or a name and a path.

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;
const BLOCK = 64;
const CHUNK = 1024;

const rotr = (x: number, n: number): number => ((x >>> n) | (x << (32 - n))) >>> 0;

function g(s: Uint32Array, a: number, b: number, c: number, d: number, x: number, y: number): void {
  s[a] = s[a]! + s[b]! + x;
  s[d] = rotr(s[d]! ^ s[a]!, 16);
  s[c] = s[c]! + s[d]!;
  s[b] = rotr(s[b]! ^ s[c]!, 12);
  s[a] = s[a]! + s[b]! + y;
  s[d] = rotr(s[d]! ^ s[a]!, 8);
  s[c] = s[c]! + s[d]!;
  s[b] = rotr(s[b]! ^ s[c]!, 7);
}

/** The compression function: the first 8 words of its output (a chaining value, or the root's digest). */
function compress(cv: Uint32Array, block: Uint32Array, counter: number, blockLength: number, flags: number): Uint32Array {
  const s = new Uint32Array(16);
  s.set(cv, 0);
  s.set(IV.slice(0, 4), 8);
  s[12] = counter >>> 0;
  s[13] = Math.floor(counter / 2 ** 32) >>> 0;
  s[14] = blockLength;
  s[15] = flags;
  let m: Uint32Array = Uint32Array.from(block);
  for (let round = 0; round < 7; round++) {
    g(s, 0, 4, 8, 12, m[0]!, m[1]!);
    g(s, 1, 5, 9, 13, m[2]!, m[3]!);
    g(s, 2, 6, 10, 14, m[4]!, m[5]!);
    g(s, 3, 7, 11, 15, m[6]!, m[7]!);
    g(s, 0, 5, 10, 15, m[8]!, m[9]!);
    g(s, 1, 6, 11, 12, m[10]!, m[11]!);
    g(s, 2, 7, 8, 13, m[12]!, m[13]!);
    g(s, 3, 4, 9, 14, m[14]!, m[15]!);
    if (round < 6) m = Uint32Array.from(PERMUTATION, (i) => m[i]!);
  }
  const out = new Uint32Array(8);
  for (let i = 0; i < 8; i++) out[i] = s[i]! ^ s[i + 8]!;
  return out;
}

function blockWords(bytes: Uint8Array, from: number, length: number): Uint32Array {
  const padded = new Uint8Array(BLOCK);
  padded.set(bytes.subarray(from, from + length));
  const view = new DataView(padded.buffer);
  return Uint32Array.from({ length: 16 }, (_, i) => view.getUint32(i * 4, true));
}

/** A node waiting for its last compression: the chunk's last block or a parent, ROOT or not. */
interface PendingNode {
  cv: Uint32Array;
  block: Uint32Array;
  counter: number;
  blockLength: number;
  flags: number;
}

function chunkNode(input: Uint8Array, from: number, to: number, counter: number): PendingNode {
  let cv: Uint32Array = Uint32Array.from(IV);
  const blocks = Math.max(1, Math.ceil((to - from) / BLOCK));
  for (let b = 0; b < blocks - 1; b++) cv = compress(cv, blockWords(input, from + b * BLOCK, BLOCK), counter, BLOCK, b === 0 ? CHUNK_START : 0);
  const lastFrom = from + (blocks - 1) * BLOCK;
  return { cv, block: blockWords(input, lastFrom, to - lastFrom), counter, blockLength: to - lastFrom, flags: (blocks === 1 ? CHUNK_START : 0) | CHUNK_END };
}

const finish = (node: PendingNode, extra = 0): Uint32Array => compress(node.cv, node.block, node.counter, node.blockLength, node.flags | extra);

function parentNode(left: Uint32Array, right: Uint32Array): PendingNode {
  const block = new Uint32Array(16);
  block.set(left, 0);
  block.set(right, 8);
  return { cv: Uint32Array.from(IV), block, counter: 0, blockLength: BLOCK, flags: PARENT };
}

/** BLAKE3 of `input`, 32 bytes. */
export function blake3(input: Uint8Array): Buffer {
  const chunks = Math.max(1, Math.ceil(input.length / CHUNK));
  // Chaining values of complete subtrees, merged as in the reference's incremental hasher.
  const stack: Uint32Array[] = [];
  for (let c = 0; c < chunks - 1; c++) {
    let cv = finish(chunkNode(input, c * CHUNK, (c + 1) * CHUNK, c));
    for (let total = c + 1; (total & 1) === 0; total >>= 1) cv = finish(parentNode(stack.pop()!, cv));
    stack.push(cv);
  }
  let node = chunkNode(input, (chunks - 1) * CHUNK, input.length, chunks - 1);
  while (stack.length > 0) node = parentNode(stack.pop()!, finish(node));
  const words = finish(node, ROOT);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) out.writeUInt32LE(words[i]!, i * 4);
  return out;
}
