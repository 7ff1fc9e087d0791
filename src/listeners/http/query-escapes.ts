// Percent-escapes in the query string, one rule for every route and the router's rule for the path:
// a `%` without two hex digits after it, or escapes whose bytes are not UTF-8, make the request a
// 400 BAD_URL naming the bad escape, decided once per request before any route runs.
import type { FastifyInstance } from 'fastify';
import { sendError } from './http-errors.js';

const PERCENT = 0x25;
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

export interface BadEscape {
  /** The escape (or run of escapes) as sent. */
  escape: string;
  /** Why it cannot be decoded. */
  why: string;
}

/** The first percent-escape in `text` that does not decode; undefined when all do. */
export function findBadEscape(text: string): BadEscape | undefined {
  let start = text.indexOf('%');
  while (start !== -1) {
    // A run of consecutive %XX escapes: one UTF-8 character may take up to four.
    let end = start;
    while (end < text.length && text.charCodeAt(end) === PERCENT) {
      if (!(isHex(text.charCodeAt(end + 1)) && isHex(text.charCodeAt(end + 2)))) {
        return { escape: text.slice(end, end + 3), why: '% must be followed by two hex digits (a literal % is written %25)' };
      }
      end += 3;
    }
    const run = text.slice(start, end);
    try {
      decodeURIComponent(run);
    } catch {
      return { escape: run, why: 'the bytes it stands for are not UTF-8' };
    }
    start = text.indexOf('%', end);
  }
  return undefined;
}

/** Answers 400 BAD_URL, before any route, to a request whose query string has a bad escape. */
export function rejectBadQueryEscapes(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    const q = url.indexOf('?');
    // The common case costs two indexOf calls: no query, or one without any escape.
    const bad = q === -1 || url.indexOf('%', q) === -1 ? undefined : findBadEscape(url.slice(q + 1));
    if (bad === undefined) {
      done();
      return;
    }
    sendError(reply, 400, 'BAD_URL', `the query string has a malformed percent-escape "${bad.escape}": ${bad.why}`);
  });
}
