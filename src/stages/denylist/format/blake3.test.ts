// BLAKE3 against published digests (the BLAKE3 reference's empty input and "abc"); the spec's own
// blake3 double hash is in denylist-format.test.ts. Inputs of several chunks (the tree) were
// checked against @noble/hashes' blake3 when this was written (lengths 0 to 70,000).
import { describe, expect, it } from 'vitest';
import { blake3 } from './blake3.js';

describe('blake3', () => {
  it('gives the published digests', () => {
    expect(blake3(Buffer.from('')).toString('hex')).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    expect(blake3(Buffer.from('abc')).toString('hex')).toBe('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  });
});
