// Records in presentation form, as zone files and dig print them: names fully qualified, TXT and
// other character-strings quoted and escaped, well-known types by field, any other type in the
// RFC 3597 generic form. Used by the DNS JSON API and the admin API.
import { packetCodecs } from './dns-packet-internals.js';
import { splitTxtStrings } from './txt-strings.js';
import type { DnsRecord } from './types.js';

/** Escapes one character-string the way zone files and dig print it. */
function quoteCharacterString(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** RFC 3597 generic form `\# <len> <hex>` from the record's own wire encoding. */
function genericRdata(record: DnsRecord): string {
  const size = packetCodecs.answer.encodingLength(record);
  const buf = Buffer.alloc(size);
  packetCodecs.answer.encode(record, buf, 0);
  const rdataStart = packetCodecs.name.encodingLength(record.name) + 10;
  const rdata = buf.subarray(rdataStart);
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${rdata.toString('hex')}`;
}

/** Record data in presentation form. */
export function recordData(record: DnsRecord): string {
  const data: unknown = (record as { data?: unknown }).data;
  switch (record.type) {
    case 'A':
    case 'AAAA':
      return String(data);
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      return fqdn(String(data));
    case 'TXT':
      return splitTxtStrings(data as string | Buffer | Array<string | Buffer>)
        .map(quoteCharacterString)
        .join(' ');
    case 'MX': {
      const mx = data as { preference?: number; exchange: string };
      return `${mx.preference ?? 0} ${fqdn(mx.exchange)}`;
    }
    case 'SRV': {
      const srv = data as { priority?: number; weight?: number; port?: number; target: string };
      return `${srv.priority ?? 0} ${srv.weight ?? 0} ${srv.port ?? 0} ${fqdn(srv.target)}`;
    }
    case 'SOA': {
      const soa = data as { mname: string; rname: string; serial?: number; refresh?: number; retry?: number; expire?: number; minimum?: number };
      return `${fqdn(soa.mname)} ${fqdn(soa.rname)} ${soa.serial ?? 0} ${soa.refresh ?? 0} ${soa.retry ?? 0} ${soa.expire ?? 0} ${soa.minimum ?? 0}`;
    }
    case 'HINFO': {
      // Two character-strings, as dig prints them: the RFC 8482 answer to ANY is `"RFC8482" ""`.
      const hinfo = data as { cpu?: string; os?: string };
      return `${quoteCharacterString(Buffer.from(hinfo.cpu ?? '', 'utf8'))} ${quoteCharacterString(Buffer.from(hinfo.os ?? '', 'utf8'))}`;
    }
    case 'CAA': {
      const caa = data as { flags?: number; tag: string; value: string };
      return `${caa.flags ?? 0} ${caa.tag} ${quoteCharacterString(Buffer.from(caa.value, 'utf8'))}`;
    }
    default:
      try {
        return genericRdata(record);
      } catch {
        return '\\# 0';
      }
  }
}

