// The optional YAML header of a compact denylist (the lines before a `---` line in its first MiB):
// the subset lists use, `key: value` scalars at the top level and one level of mapping under a key
// (`hints:`); other nested content of custom fields is skipped. A header that does not read as such
// YAML, or names a version other than 1, is an error: the spec says to abort the list.
import { CodedError } from '../../../errors.js';
import type { DenylistHeader } from './types.js';

/** The spec's limit: a `---` line not found in the first MiB means the list has no header. */
export const MAX_HEADER_BYTES = 1 << 20;

/** A copy of `text` that does not keep the list's whole text alive (a slice of it would). */
function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function unquote(raw: string, line: number): string {
  return detached(unquoted(raw, line));
}

function unquoted(raw: string, line: number): string {
  const value = raw.trim();
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2) throw headerError(line, 'unterminated double-quoted string');
    try {
      return JSON.parse(value) as string;
    } catch {
      throw headerError(line, 'invalid double-quoted string');
    }
  }
  if (value.startsWith("'")) {
    if (!value.endsWith("'") || value.length < 2) throw headerError(line, 'unterminated single-quoted string');
    return value.slice(1, -1).replaceAll("''", "'");
  }
  // A plain scalar ends at a comment (` #`).
  const comment = value.search(/\s#/);
  return (comment === -1 ? value : value.slice(0, comment)).trim();
}

function headerError(line: number, message: string): CodedError {
  return new CodedError('DENYLIST_INVALID_HEADER', `denylist header, line ${line}: ${message} (the header is the YAML before the "---" line; fix it or remove it)`);
}

const KEY_LINE = /^([^\s:#][^:]*?)\s*:(?:\s+(.*))?$/;

/**
 * Parses the header's lines (`firstLine` is the 1-based number of lines[0]). Throws
 * CodedError(DENYLIST_INVALID_HEADER | DENYLIST_UNSUPPORTED_VERSION).
 */
export function parseHeader(lines: string[], firstLine = 1): DenylistHeader {
  const header: DenylistHeader = { hints: {} };
  let block: { key: string; indent: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const number = firstLine + i;
    const text = lines[i]!;
    if (text.trim() === '' || text.trim().startsWith('#')) continue;
    if (/\t/.test(text.match(/^\s*/)![0])) throw headerError(number, 'tab in indentation');
    const indent = text.length - text.trimStart().length;
    if (indent > 0) {
      if (block === undefined) throw headerError(number, 'indented line outside a mapping');
      if (block.key !== 'hints') continue; // nested content of a custom field: skipped
      if (block.indent === -1) block.indent = indent;
      if (indent !== block.indent) throw headerError(number, 'hints must be a flat map of `name: value`');
      const match = KEY_LINE.exec(text.trim());
      if (!match) throw headerError(number, 'expected `name: value` in hints');
      header.hints[unquote(match[1]!, number)] = unquote(match[2] ?? '', number);
      continue;
    }
    const match = KEY_LINE.exec(text);
    if (!match) throw headerError(number, 'expected `key: value`');
    const key = unquote(match[1]!, number);
    const value = match[2] === undefined ? undefined : unquote(match[2], number);
    block = undefined;
    if (value === undefined || value === '') {
      block = { key, indent: -1 };
      continue;
    }
    if (key === 'version') header.version = value;
    else if (key === 'name') header.name = value;
    else if (key === 'hints' && value !== '{}') throw headerError(number, 'hints must be a map (`hints:` then indented `name: value` lines)');
  }
  if (header.version !== undefined && header.version !== '1') {
    throw new CodedError('DENYLIST_UNSUPPORTED_VERSION', `denylist header: version ${JSON.stringify(header.version)} is not supported (only version 1 of the compact denylist format)`);
  }
  return header;
}
