// The DNS JSON format (Google `/resolve`, Cloudflare `application/dns-json`): a Resolution
// rendered as {Status,TC,RD,RA,AD,CD,Question,Answer,Authority}, and record data in presentation
// form (TXT quoted as Cloudflare does: "\"a\" \"b\"", HINFO as dig does: "\"RFC8482\" \"\"").
import { fqdn, recordData } from '../../dns/presentation.js';
import { recordTypeNumber } from '../../dns/record-types.js';
import { recordTtl, remainingTtl, type Resolution } from '../../dns/resolution.js';
import type { DnsRecord } from '../../dns/types.js';

export interface JsonQuestion {
  name: string;
  type: number;
}

export interface JsonRecord {
  name: string;
  type: number;
  TTL: number;
  data: string;
}

export interface DnsJsonResponse {
  Status: number;
  TC: boolean;
  RD: boolean;
  RA: boolean;
  AD: boolean;
  CD: boolean;
  Question: JsonQuestion[];
  Answer?: JsonRecord[];
  Authority?: JsonRecord[];
  /** Extended DNS Error text (stale answer, upstream failure), as Google's `Comment`. */
  Comment?: string;
}

function jsonRecords(records: DnsRecord[], res: Resolution): JsonRecord[] {
  return records.map((rr) => ({
    name: fqdn(rr.name),
    type: recordTypeNumber(rr.type),
    TTL: remainingTtl(recordTtl(rr), res),
    data: recordData(rr),
  }));
}

export interface JsonQueryFlags {
  cd: boolean;
}

/** Renders a resolution as DNS JSON. */
export function toDnsJson(name: string, type: number, res: Resolution, flags: JsonQueryFlags): DnsJsonResponse {
  const out: DnsJsonResponse = {
    Status: res.rcode,
    TC: false,
    RD: true,
    RA: true,
    AD: false,
    CD: flags.cd,
    Question: [{ name: fqdn(name), type }],
  };
  if (res.answers.length > 0) out.Answer = jsonRecords(res.answers, res);
  if (res.authorities.length > 0) out.Authority = jsonRecords(res.authorities, res);
  if (res.ede) out.Comment = res.ede.text ? `EDE ${res.ede.code}: ${res.ede.text}` : `EDE ${res.ede.code}`;
  return out;
}
