// The chunked JSON writer gives the same document as JSON.stringify, whatever the array's size.
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { jsonInChunks } from './chunked-json.js';

describe('jsonInChunks', () => {
  it.each([0, 1, 499, 500, 501, 1234])('matches JSON.stringify with %i items', async (n) => {
    const value = { dryRun: false, changed: Array.from({ length: n }, (_, i) => ({ name: `n${i}.example`, before: null, after: { v: i, s: 'a"b' } })), skipped: [{ name: 'x', why: 'y' }] };
    expect(JSON.parse(await text(jsonInChunks(value, 'changed')))).toEqual(value);
  });
  it('handles an object with nothing but the array', async () => {
    expect(JSON.parse(await text(jsonInChunks({ changed: [1, 2] }, 'changed')))).toEqual({ changed: [1, 2] });
  });
});
