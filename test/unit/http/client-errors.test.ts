// Requests Node's HTTP/1.1 parser refuses: each parser error gets its status, code and a message
// saying what is wrong; the answer is written once per socket, never to a socket that cannot take it.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { clientErrorHandler, clientErrorResponse, describeClientError } from '../../../src/listeners/http/client-errors.js';

const parserError = (code: string, reason: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`Parse Error: ${reason}`), { code, reason, ...extra });

describe('describeClientError', () => {
  it('maps each parser error to a status, a code and what is wrong', () => {
    expect(describeClientError(parserError('HPE_HEADER_OVERFLOW', 'Header overflow'))).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
    expect(describeClientError(parserError('ERR_HTTP_REQUEST_TIMEOUT', 'Request timeout'))).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    const url = Buffer.from('GET /resolve?name=\xc3\xa9 HTTP/1.1', 'latin1');
    expect(describeClientError(parserError('HPE_INVALID_URL', 'Invalid char in url query', { rawPacket: url, bytesParsed: 18 }))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'the URL holds a raw non-ASCII byte (0xc3): percent-encode its UTF-8 bytes (U+00E9 is %C3%A9)',
    });
    const tab = Buffer.from('GET /a\tb HTTP/1.1', 'latin1');
    expect(describeClientError(parserError('HPE_INVALID_URL', 'Invalid char in url path', { rawPacket: tab, bytesParsed: 6 })).message).toMatch(/control character \(0x09\)/);
    for (const [code, reason] of [
      ['HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length"],
      ['HPE_UNEXPECTED_CONTENT_LENGTH', "Content-Length can't be present with Transfer-Encoding"],
      ['HPE_INVALID_CONTENT_LENGTH', "Content-Length can't be present with Transfer-Encoding"],
    ]) {
      expect(describeClientError(parserError(code!, reason!)).message).toMatch(/^the request has both Content-Length and Transfer-Encoding/);
    }
    const hello = Buffer.from('16030100c4010000c00303', 'hex');
    expect(describeClientError(parserError('HPE_INVALID_METHOD', 'Invalid method encountered', { rawPacket: hello, bytesParsed: 0 })).message).toBe(
      'this is a cleartext HTTP port; a TLS handshake was sent: use http:// or the https listener',
    );
    expect(describeClientError(parserError('HPE_INVALID_METHOD', 'Invalid method encountered', { rawPacket: Buffer.from([0, 28]) })).message).toMatch(/not an HTTP request/);
    expect(describeClientError(parserError('HPE_SOMETHING_NEW', 'Odd thing'))).toEqual({ status: 400, code: 'BAD_REQUEST', message: 'the request is not valid HTTP/1.1: Odd thing' });
  });

  it('writes the JSON body with CORS, no caching and connection: close', () => {
    const raw = clientErrorResponse({ status: 431, code: 'HEADERS_TOO_LARGE', message: 'too long: é' });
    const [head, body] = raw.split('\r\n\r\n');
    expect(head!.split('\r\n')).toEqual([
      'HTTP/1.1 431 Request Header Fields Too Large',
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(body!)}`,
      'cache-control: max-age=0',
      'access-control-allow-origin: *',
      'connection: close',
    ]);
    expect(JSON.parse(body!)).toEqual({ code: 'HEADERS_TOO_LARGE', message: 'too long: é' });
  });
});

/** Enough of a net.Socket for the handler; `inFlight` stands for the response Node is making on it. */
function fakeSocket(state: { writable?: boolean; destroyed?: boolean; inFlight?: { headersSent: boolean; requestComplete: boolean } } = {}) {
  const response = state.inFlight ? Object.assign(new EventEmitter(), { headersSent: state.inFlight.headersSent, req: { complete: state.inFlight.requestComplete } }) : undefined;
  const socket = Object.assign(new EventEmitter(), {
    writable: state.writable ?? true,
    destroyed: state.destroyed ?? false,
    end: vi.fn(),
    destroy: vi.fn(),
    ...(response ? { _httpMessage: response } : {}),
  });
  return { socket: socket as unknown as Socket & { writable: boolean; end: ReturnType<typeof vi.fn>; destroy: ReturnType<typeof vi.fn> }, response };
}

describe('clientErrorHandler', () => {
  const handle = clientErrorHandler(pino({ level: 'silent' }));
  const overflow = parserError('HPE_HEADER_OVERFLOW', 'Header overflow');

  it('answers once per socket, however often the parser reports it', () => {
    vi.useFakeTimers();
    try {
      const { socket } = fakeSocket();
      handle(overflow, socket);
      handle(overflow, socket);
      expect(socket.end).toHaveBeenCalledTimes(1);
      expect(String(socket.end.mock.calls[0]![0])).toMatch(/^HTTP\/1\.1 431 /);
      // Closed after the linger time if the client does not close first.
      expect(socket.destroy).not.toHaveBeenCalled();
      vi.advanceTimersByTime(2_000);
      expect(socket.destroy).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never writes to a socket that is not writable, destroyed or reset', () => {
    for (const [{ socket }, err] of [
      [fakeSocket({ writable: false }), overflow],
      [fakeSocket({ destroyed: true }), overflow],
      [fakeSocket(), Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ] as const) {
      handle(err, socket);
      expect(socket.end).not.toHaveBeenCalled();
      expect(socket.destroy).toHaveBeenCalled();
    }
  });

  it('answers after the response to an earlier (pipelined) request, never in the middle of it', () => {
    for (const inFlight of [{ headersSent: true, requestComplete: true }, { headersSent: false, requestComplete: true }, { headersSent: true, requestComplete: false }]) {
      const { socket, response } = fakeSocket({ inFlight });
      handle(overflow, socket);
      expect(socket.end).not.toHaveBeenCalled();
      response!.emit('finish');
      response!.emit('close');
      expect(socket.end).toHaveBeenCalledTimes(1);
    }
    // The socket closed meanwhile: nothing written.
    const { socket, response } = fakeSocket({ inFlight: { headersSent: true, requestComplete: true } });
    handle(overflow, socket);
    socket.writable = false;
    response!.emit('close');
    expect(socket.end).not.toHaveBeenCalled();
    expect(socket.destroy).toHaveBeenCalled();
  });

  it('answers at once the request whose own bytes are refused (its response not started)', () => {
    const { socket } = fakeSocket({ inFlight: { headersSent: false, requestComplete: false } });
    handle(parserError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size'), socket);
    expect(socket.end).toHaveBeenCalledTimes(1);
    expect(String(socket.end.mock.calls[0]![0])).toMatch(/^HTTP\/1\.1 400 [^]*Invalid character in chunk size/);
  });
});
