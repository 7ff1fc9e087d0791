// DNS names to ENS names, as ENS clients want them: the trailing dot removed, punycode labels
// decoded (node:url domainToUnicode), then ENSIP-15 normalization (viem normalize). A name that
// cannot be normalized gives the reason instead of a throw, in printable ASCII. No I/O.
import { domainToUnicode } from 'node:url';
import { normalize } from 'viem/ens';
import { plainText } from './plain-text.js';

export function ensNameOf(dnsName: string): { name: string } | { error: string } {
  const bare = dnsName.endsWith('.') ? dnsName.slice(0, -1) : dnsName;
  const unicode = /(^|\.)xn--/i.test(bare) ? domainToUnicode(bare) : bare;
  if (unicode === '') return { error: plainText(`"${bare}" holds invalid punycode`) };
  try {
    return { name: normalize(unicode) };
  } catch (err) {
    const why = (err as { shortMessage?: string }).shortMessage ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
    return { error: plainText(`"${bare}" is not a valid ENS name: ${why}`) };
  }
}
