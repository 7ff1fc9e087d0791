// Text that leaves the ENS stage in Extended DNS Errors and log lines: printable ASCII only. Names
// and messages from outside (viem's ENSIP-15 errors mark text direction with U+200E, names hold
// Unicode) keep their meaning with every other character written {HEX}, as ENSIP-15 writes code points.

/** `text` with every character outside printable ASCII written `{HEX}`, cut to `max` characters. */
export function plainText(text: string, max = 400): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code === 0x200e || code === 0x200f) continue; // direction marks: no meaning of their own
    out += code >= 0x20 && code < 0x7f ? ch : `{${code.toString(16).toUpperCase()}}`;
    if (out.length >= max) return `${out.slice(0, max - 3)}...`;
  }
  return out;
}
