// TCP length framing, the one framer both the TCP listener and the upstream client use: messages
// split across chunks, several in one chunk, a reader told to stop, and the bytes of a message not
// complete yet (the TCP listener's query timeout runs while there are any).
import { describe, expect, it } from 'vitest';
import { frameMessage, MessageReader } from '../../../src/dns/tcp-framing.js';

describe('TCP framing', () => {
  it('prefixes a message with its two-byte length', () => {
    expect(frameMessage(Buffer.from('abc'))).toEqual(Buffer.from([0, 3, 0x61, 0x62, 0x63]));
    expect(frameMessage(Buffer.alloc(0))).toEqual(Buffer.from([0, 0]));
  });

  it('hands out messages split across chunks and several in one chunk, in order', () => {
    const stream = Buffer.concat([frameMessage(Buffer.from('first')), frameMessage(Buffer.alloc(300, 7)), frameMessage(Buffer.from('x'))]);
    const reader = new MessageReader();
    const got: Buffer[] = [];
    let offset = 0;
    for (const cut of [1, 4, 9, 200, stream.length]) {
      reader.push(stream.subarray(offset, cut), (m) => {
        got.push(Buffer.from(m));
      });
      offset = cut;
    }
    expect(got.map((m) => m.length)).toEqual([5, 300, 1]);
    expect(got[0]!.toString()).toBe('first');
  });

  it('stops handing out messages when told to, keeping the rest for the next push', () => {
    const reader = new MessageReader();
    const got: string[] = [];
    reader.push(Buffer.concat([frameMessage(Buffer.from('a')), frameMessage(Buffer.from('b'))]), (m) => {
      got.push(m.toString());
      return false;
    });
    expect(got).toEqual(['a']);
    reader.push(Buffer.alloc(0), (m) => {
      got.push(m.toString());
    });
    expect(got).toEqual(['a', 'b']);
  });

  it('counts the bytes of a message not complete yet, 0 between messages', () => {
    const reader = new MessageReader();
    const framed = frameMessage(Buffer.from('query'));
    const got: string[] = [];
    reader.push(framed.subarray(0, 1), (m) => void got.push(m.toString()));
    expect(reader.partialBytes).toBe(1);
    reader.push(framed.subarray(1, 4), (m) => void got.push(m.toString()));
    expect(reader.partialBytes).toBe(4);
    reader.push(Buffer.concat([framed.subarray(4), framed.subarray(0, 3)]), (m) => void got.push(m.toString()));
    expect(got).toEqual(['query']);
    expect(reader.partialBytes).toBe(3);
    reader.push(framed.subarray(3), (m) => void got.push(m.toString()));
    expect(got).toEqual(['query', 'query']);
    expect(reader.partialBytes).toBe(0);
  });
});
