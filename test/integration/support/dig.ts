// Running dig / kdig and parsing their text output.
import { binPath } from './binaries.js';
import { runTool } from './proc.js';

export interface DnsRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigMessage {
  status: string;
  id: number;
  flags: string[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
  /** EDNS Extended DNS Error, when dig printed `; EDE: <code> (<name>)[: (<text>)]`. */
  ede?: { code: number; name: string; text: string };
  /** EDNS UDP size the server advertised, when it sent an OPT record. */
  ednsUdp?: number;
  /** Transport dig reports for this answer: UDP or TCP. */
  transport?: string;
  msgSize?: number;
}

export interface DigResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last message dig printed (after a TC retry over TCP, that is the TCP answer). */
  parsed: DigMessage | undefined;
  messages: DigMessage[];
  /** dig printed ";; Truncated, retrying in TCP mode." */
  retriedTcp: boolean;
  /** No answer at all ("connection timed out" / "no servers could be reached"). */
  noAnswer: boolean;
}

const RECORD = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/;

/** Parse dig (BIND 9.18) or kdig (Knot 3.x) text output into messages. */
export function parseDigOutput(stdout: string): Omit<DigResult, 'code' | 'stdout' | 'stderr'> {
  const messages: DigMessage[] = [];
  let cur: DigMessage | undefined;
  let section = '';
  let retriedTcp = false;
  for (const raw of stdout.split('\n')) {
    const line = raw.trimEnd();
    if (/Truncated, retrying in TCP mode/.test(line)) retriedTcp = true;
    const header = /->>HEADER<<-.*status: (\w+)[,;] id: (\d+)/.exec(line);
    if (header) {
      cur = { status: header[1] ?? '', id: Number(header[2]), flags: [], answers: [], authority: [], additional: [] };
      messages.push(cur);
      section = '';
      continue;
    }
    if (!cur) continue;
    const flags = /^;; flags:([^;]*);/i.exec(line);
    if (flags) {
      cur.flags = (flags[1] ?? '').trim().split(/\s+/).filter(Boolean);
      continue;
    }
    const sec = /^;; (ANSWER|AUTHORITY|ADDITIONAL|QUESTION|OPT PSEUDO|EDNS PSEUDO)/.exec(line);
    if (sec) {
      section = sec[1] ?? '';
      continue;
    }
    const ede = /^;* ?EDE: (\d+)(?: \(([^)]*)\))?(?:: ?(.*))?$/.exec(line);
    if (ede) {
      cur.ede = { code: Number(ede[1]), name: ede[2] ?? '', text: ede[3] ?? '' };
      continue;
    }
    const udp = /udp: (\d+)/i.exec(line) ?? /UDP size: (\d+)/.exec(line);
    if (udp && section.endsWith('PSEUDO')) cur.ednsUdp = Number(udp[1]);
    const server = /^;; SERVER: .*\((UDP|TCP)\)/.exec(line) ?? /^;; From .*\((UDP|TCP)\)/.exec(line);
    if (server) cur.transport = server[1];
    const size = /^;; MSG SIZE\s+rcvd: (\d+)/.exec(line) ?? /^;; Received (\d+) B/.exec(line);
    if (size) cur.msgSize = Number(size[1]);
    if (line === '' || line.startsWith(';')) continue;
    const m = RECORD.exec(line);
    if (!m) continue;
    const rec: DnsRecord = {
      name: m[1] ?? '',
      ttl: Number(m[2]),
      class: m[3] ?? '',
      type: m[4] ?? '',
      data: m[5] ?? '',
    };
    if (section === 'ANSWER') cur.answers.push(rec);
    else if (section === 'AUTHORITY') cur.authority.push(rec);
    else if (section === 'ADDITIONAL') cur.additional.push(rec);
  }
  const noAnswer = /connection timed out|no servers could be reached|communications error/i.test(stdout);
  return { parsed: messages.at(-1), messages, retriedTcp, noAnswer };
}

/**
 * `dig +tries=1 +time=2 <args>` (later args override the defaults). Never throws on a DNS error
 * status or a timeout: look at `parsed`, `noAnswer` and `code`.
 */
export async function dig(args: string[], opts: { timeoutMs?: number } = {}): Promise<DigResult> {
  const r = await runTool(binPath('dig'), ['+tries=1', '+time=2', ...args], opts.timeoutMs ?? 15_000);
  return { ...r, ...parseDigOutput(r.stdout) };
}

/** dig @127.0.0.1 -p port [type] name [...extra]. */
export function digAt(port: number, name: string, type: string, extra: string[] = []): Promise<DigResult> {
  return dig(['@127.0.0.1', '-p', String(port), name, type, ...extra]);
}

/** `kdig +retry=0 +timeout=2 <args>`. */
export async function kdig(args: string[], opts: { timeoutMs?: number } = {}): Promise<DigResult> {
  const r = await runTool(binPath('kdig'), ['+retry=0', '+timeout=2', ...args], opts.timeoutMs ?? 15_000);
  return { ...r, ...parseDigOutput(r.stdout) };
}

/**
 * The character-strings of a TXT rdata as dig prints it (`"a" "b\"c" "\195\188"`), unescaped and
 * decoded as UTF-8.
 */
export function txtStrings(data: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (let guard = 0; i < data.length && guard < 100_000; guard++) {
    while (data[i] === ' ' || data[i] === '\t') i++;
    if (i >= data.length) break;
    const quoted = data[i] === '"';
    if (quoted) i++;
    const bytes: number[] = [];
    while (i < data.length) {
      const ch = data[i] as string;
      if (quoted ? ch === '"' : ch === ' ' || ch === '\t') break;
      if (ch === '\\') {
        const ddd = /^\d{3}/.exec(data.slice(i + 1, i + 4));
        if (ddd) {
          bytes.push(Number(ddd[0]));
          i += 4;
        } else {
          bytes.push(...Buffer.from(data[i + 1] ?? '', 'utf8'));
          i += 2;
        }
        continue;
      }
      bytes.push(...Buffer.from(ch, 'utf8'));
      i++;
    }
    if (quoted) i++; // closing quote
    out.push(Buffer.from(bytes).toString('utf8'));
  }
  return out;
}

/** A TXT record's value: its character-strings concatenated. */
export const txtValue = (data: string): string => txtStrings(data).join('');
