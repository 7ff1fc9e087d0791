// The command line's shared rules: each command's help ({summary, usage, help}, kept next to the
// command's code and collected in one table by main.ts), flag parsing whose errors are one line
// naming the flag (did you mean --x?), numbers checked against their range, and --admin addresses.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line usage error: one line on stderr, then `see: dnslinkd help <command>`, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help the see-line names (`override set`); main.ts fills in the top command. */
    public command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The help of one command: a line for the global list, its usage lines and the text after them. */
export interface CommandHelp {
  /** One line in `dnslinkd help`. */
  summary: string;
  /** `dnslinkd flush (--name NAME | ...)` lines. */
  usage: string;
  /** Flags, exit codes, examples: what `dnslinkd help <command>` prints after the usage. */
  help: string;
  /** Subcommands with help of their own (`override set --help`). */
  subcommands?: Record<string, { usage: string; help: string }>;
}

/** The text `dnslinkd help <command> [sub]` prints. */
export function helpText(name: string, command: CommandHelp, sub?: string): string {
  const own = sub !== undefined ? command.subcommands?.[sub] : undefined;
  if (own) return `Usage:\n${own.usage}\n\n${own.help}\n\nSee also: dnslinkd help ${name}`;
  return `Usage:\n${command.usage}\n\n${command.help}`;
}

/** Edit distance (insertions, deletions, substitutions and swaps of two neighbours), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `known` to `given`, when close enough to be a slip (one edit per three letters, at least one). */
export function closest(given: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(given, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  const allowed = Math.max(1, Math.floor(given.length / 3));
  return best && best.distance <= allowed ? best.name : undefined;
}

/** ` (did you mean X?)`, or nothing. */
export function didYouMean(given: string, known: readonly string[], show: (name: string) => string = (n) => n): string {
  const match = closest(given, known);
  return match === undefined ? '' : `; did you mean ${show(match)}?`;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs with errors an operator can act on: an unknown flag names the command's closest flag;
 * a flag given no value says so; a negative number (`--ttl -5`) reaches the flag's range check
 * instead of being taken for a flag.
 */
export function parseFlags<T extends Options>(command: string, args: string[], options: T) {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const option = arg.startsWith('--') ? options[arg.slice(2)] : undefined;
    if (option?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(flagErrorLine(command, joined, options, err), command);
  }
}

function flagErrorLine(command: string, args: string[], options: Options, err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const flags = Object.keys(options);
  const quoted = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) {
    const given = quoted.replace(/^-+/, '').replace(/=.*$/, '');
    return `${command} has no flag ${quoted}${didYouMean(given, flags, (f) => `--${f}`)}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted) {
    const flag = `--${quoted.replace(/^-+/, '')}`;
    const option = options[flag.slice(2)];
    if (option?.type === 'boolean') return `${flag} takes no value: give ${flag} alone`;
    const at = args.indexOf(flag);
    const next = at >= 0 ? args[at + 1] : undefined;
    if (next !== undefined && next.startsWith('-')) return `${flag} needs a value, not the flag "${next}" (to give a value starting with "-", write ${flag}=${next})`;
    return `${flag} needs a value`;
  }
  return message.split('\n')[0]!;
}

/** A whole number given to `flag`, in min..max; a usage error naming the flag and the range otherwise. */
export function wholeNumber(raw: string, flag: string, min: number, max: number, unit = '', command?: string): number {
  const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} takes a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max} (got "${raw}")`, command);
  }
  return n;
}

/** An --admin value: HOST:PORT, [IPv6]:PORT or an http(s):// URL of the same. */
export interface AdminAddress {
  /** `HOST:PORT`, IPv6 in brackets, as admin.listen spells it. */
  listen: string;
  /** The scheme given in a URL; undefined for HOST:PORT (then admin.tls decides). */
  scheme?: 'http' | 'https';
}

/** Parses --admin; a usage error showing both forms otherwise. */
export function parseAdminAddress(raw: string): AdminAddress {
  const m = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/[\]@]+):(\d{1,5})\/?$/.exec(raw);
  if (!m || Number(m[3]) > 65535) {
    throw new UsageError(`--admin takes HOST:PORT or a URL, such as 127.0.0.1:8054, [::1]:8054 or http://127.0.0.1:8054 (got "${raw}")`);
  }
  return { listen: `${m[2]}:${m[3]}`, ...(m[1] ? { scheme: m[1] as 'http' | 'https' } : {}) };
}
