// The HTTP/2 stream deadline sweep (connection-limits.ts): a stream is cancelled on the
// (SWEEPS_PER_REQUEST_TIMEOUT + 1)th sweep after it began, never earlier; closed streams are forgotten.
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { StreamDeadlines, SWEEPS_PER_REQUEST_TIMEOUT, type CancellableStream } from '../../../src/listeners/http/connection-limits.js';

function fakeStream(): CancellableStream & { codes: number[] } {
  const codes: number[] = [];
  return { codes, close: (code) => codes.push(code) };
}

describe('StreamDeadlines', () => {
  it('cancels a stream once more than SWEEPS_PER_REQUEST_TIMEOUT whole sweep intervals have passed, not before', () => {
    const deadlines = new StreamDeadlines();
    const stream = fakeStream();
    deadlines.add(stream);
    // Began somewhere between two sweeps: after N more sweeps it may be only N-1 intervals old.
    for (let i = 0; i < SWEEPS_PER_REQUEST_TIMEOUT; i++) deadlines.sweep();
    expect(stream.codes).toEqual([]);
    deadlines.sweep();
    expect(stream.codes).toEqual([http2.constants.NGHTTP2_CANCEL]);
  });

  it('cancels only the streams that are due, oldest first, and keeps counting them open until closed', () => {
    const deadlines = new StreamDeadlines();
    const old = fakeStream();
    const young = fakeStream();
    deadlines.add(old);
    deadlines.sweep();
    deadlines.sweep();
    deadlines.add(young);
    for (let i = 0; i < SWEEPS_PER_REQUEST_TIMEOUT - 1; i++) deadlines.sweep();
    expect(old.codes).toEqual([http2.constants.NGHTTP2_CANCEL]);
    expect(young.codes).toEqual([]);
    expect(deadlines.open).toBe(2);
    expect(deadlines.remove(old)).toBe(false);
    expect(deadlines.open).toBe(1);
    deadlines.sweep();
    deadlines.sweep();
    expect(young.codes).toEqual([http2.constants.NGHTTP2_CANCEL]);
  });

  it('forgets a stream closed in time, and says when the last open one closed', () => {
    const deadlines = new StreamDeadlines();
    const a = fakeStream();
    const b = fakeStream();
    deadlines.add(a);
    deadlines.add(b);
    expect(deadlines.remove(a)).toBe(false);
    expect(deadlines.remove(b)).toBe(true);
    expect(deadlines.remove(b)).toBe(false);
    for (let i = 0; i <= SWEEPS_PER_REQUEST_TIMEOUT * 2; i++) deadlines.sweep();
    expect(a.codes).toEqual([]);
    expect(b.codes).toEqual([]);
    expect(deadlines.open).toBe(0);
  });
});
