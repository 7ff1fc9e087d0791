// Requests Node's HTTP/1.1 parser refuses before any route runs (fastify's clientErrorHandler): an
// oversized request head, bytes a URL may not hold, Content-Length with Transfer-Encoding, a TLS
// handshake on the cleartext port. Answered on the raw socket with our JSON error, then closed.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ErrorBody } from './http-errors.js';

/** What Node's parser attaches to its errors (lib/_http_server.js, llhttp). */
interface ParserError extends Error {
  code?: string;
  reason?: string;
  bytesParsed?: number;
  rawPacket?: Buffer;
}

export interface ClientErrorAnswer {
  status: number;
  code: string;
  message: string;
}

/** After answering, read and drop what the client still sends this long, so it reads the answer. */
const LINGER_MS = 2_000;

/** A TLS record of type handshake (22) and version 3.x: a ClientHello. */
function isTlsHandshake(bytes: Buffer | undefined): boolean {
  return bytes !== undefined && bytes.length >= 1 && bytes[0] === 0x16 && (bytes.length < 2 || bytes[1] === 0x03);
}

const hexByte = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** Why the parser refused the URL, from the byte it stopped at. */
function badUrlMessage(err: ParserError): string {
  const at = err.bytesParsed;
  const byte = err.rawPacket !== undefined && at !== undefined && at >= 0 && at < err.rawPacket.length ? err.rawPacket[at] : undefined;
  if (byte !== undefined && byte >= 0x80) {
    return `the URL holds a raw non-ASCII byte (${hexByte(byte)}): percent-encode its UTF-8 bytes (U+00E9 is %C3%A9)`;
  }
  if (byte !== undefined && (byte < 0x20 || byte === 0x7f)) {
    return `the URL holds a control character (${hexByte(byte)}): percent-encode it`;
  }
  return `the URL is not valid: ${err.reason ?? err.message}`;
}

/** Status, code and message for an error of Node's HTTP/1.1 parser. */
export function describeClientError(err: ParserError): ClientErrorAnswer {
  const reason = err.reason ?? err.message;
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'HEADERS_TOO_LARGE',
        message:
          `the request line and headers are over ${http.maxHeaderSize} bytes; ` +
          'a DNS query too large for GET /dns-query?dns= goes in the body of POST /dns-query (application/dns-message)',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'BODY_TOO_LARGE', message: 'the chunk extensions of the body are too large' };
    case 'HPE_INVALID_URL':
      return { status: 400, code: 'BAD_REQUEST', message: badUrlMessage(err) };
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      // llhttp names the pair in either order, under one of these codes.
      if (/content-length/i.test(reason) && /transfer-encoding/i.test(reason)) {
        return {
          status: 400,
          code: 'BAD_REQUEST',
          message: 'the request has both Content-Length and Transfer-Encoding (RFC 9112 section 6.1: a request smuggling risk); send one of them',
        };
      }
      if (err.code === 'HPE_INVALID_TRANSFER_ENCODING') {
        return { status: 400, code: 'BAD_REQUEST', message: `the Transfer-Encoding header is not valid: ${reason}` };
      }
      return { status: 400, code: 'BAD_REQUEST', message: `the Content-Length header is not valid: ${reason}` };
    case 'HPE_INVALID_METHOD':
      if (isTlsHandshake(err.rawPacket)) {
        return {
          status: 400,
          code: 'BAD_REQUEST',
          message: 'this is a cleartext HTTP port; a TLS handshake was sent: use http:// or the https listener',
        };
      }
      return { status: 400, code: 'BAD_REQUEST', message: 'not an HTTP request: it does not start with an HTTP method' };
    case 'HPE_INVALID_HEADER_TOKEN':
      return { status: 400, code: 'BAD_REQUEST', message: `a header holds a character HTTP does not allow: ${reason}` };
    case 'HPE_INVALID_VERSION':
      return { status: 400, code: 'BAD_REQUEST', message: 'the request line does not end with a valid HTTP version (HTTP/1.1)' };
    default:
      return { status: 400, code: 'BAD_REQUEST', message: `the request is not valid HTTP/1.1: ${reason}` };
  }
}

/** The raw HTTP/1.1 answer: our JSON body, CORS, never cached, and the connection closed. */
export function clientErrorResponse(answer: ClientErrorAnswer): string {
  const body: ErrorBody = { code: answer.code, message: answer.message };
  const json = JSON.stringify(body);
  return (
    `HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(json)}\r\n` +
    'cache-control: max-age=0\r\n' +
    'access-control-allow-origin: *\r\n' +
    'connection: close\r\n' +
    `\r\n${json}`
  );
}

/** Sockets already answered: the parser reports every later chunk on them again. */
const answered = new WeakSet<Socket>();

/** The response Node's HTTP/1.1 server is making on a socket, if any (`socket._httpMessage`). */
interface InFlight {
  headersSent?: boolean;
  req?: { complete?: boolean };
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/** fastify's clientErrorHandler: answers once per socket, in order, then closes it. */
export function clientErrorHandler(log: Logger): (error: Error, socket: Socket) => void {
  return (error, socket) => {
    const err = error as ParserError;
    if (answered.has(socket)) return;
    answered.add(socket);
    if (err.code === 'ECONNRESET' || socket.destroyed) {
      socket.destroy();
      return;
    }
    const answer = (): void => {
      if (!socket.writable || socket.destroyed) {
        socket.destroy();
        return;
      }
      const refusal = describeClientError(err);
      log.debug({ err: { code: err.code, reason: err.reason }, status: refusal.status }, 'HTTP request refused by the parser');
      socket.end(clientErrorResponse(refusal));
      // Closing with unread input would make the kernel reset the connection, and the client could
      // lose the answer: keep reading (the parser drops it) until the client closes, or LINGER_MS.
      const timer = setTimeout(() => socket.destroy(), LINGER_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    };
    const inFlight = (socket as Socket & { _httpMessage?: InFlight | null })._httpMessage;
    if (inFlight && (inFlight.headersSent === true || inFlight.req?.complete === true)) {
      // A response to an earlier request (pipelined) is on its way: ours comes after it, in order,
      // never in the middle of it.
      let once = false;
      const after = (): void => {
        if (once) return;
        once = true;
        answer();
      };
      inFlight.once('finish', after);
      inFlight.once('close', after);
      return;
    }
    // No response yet, or the one of the request whose bytes are refused (a broken chunked body):
    // the answer is ours to give now.
    answer();
  };
}
