// TXT character-strings: splitting a value into strings of at most 255 bytes (dns-packet writes
// longer ones broken) and joining a record's strings into the one value DNSLink reads.

const MAX_TXT_STRING = 255;

/** Splits TXT strings longer than 255 bytes into 255-byte strings. */
export function splitTxtStrings(data: string | Buffer | Array<string | Buffer>): Buffer[] {
  const items = Array.isArray(data) ? data : [data];
  const out: Buffer[] = [];
  for (const item of items) {
    const bytes = typeof item === 'string' ? Buffer.from(item, 'utf8') : item;
    if (bytes.length === 0) out.push(bytes);
    for (let i = 0; i < bytes.length; i += MAX_TXT_STRING) out.push(bytes.subarray(i, i + MAX_TXT_STRING));
  }
  return out;
}

/** The strings of one TXT record concatenated and decoded as UTF-8 (the DNSLink reading). */
export function joinTxtStrings(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) {
    return Buffer.concat(data.map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(String(d), 'utf8')))).toString('utf8');
  }
  return '';
}
