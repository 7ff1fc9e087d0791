// The real CLI's usage surface, no daemon needed: each usage error is one line plus a see-line
// naming the command's help (exit 2, nothing on stdout); `help <command>` and `<command> --help`
// print that command's own help; did-you-mean for flags, commands and subcommands; -v; numbers
// checked against their range, negative ones included.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot, requireBuild, runCli, type CliResult } from './support/index.js';
import { join } from 'node:path';

const ok = requireBuild();
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** No instance is asked: the admin commands fail before any request, or reach nothing. */
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));
const cli = (args: string[]) => runCli(args, 30_000, env);

/** Exactly `dnslinkd: <message>` and `see: dnslinkd help <topic>`, exit 2, nothing on stdout. */
function usageError(r: CliResult, message: string | RegExp, topic: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n');
  expect(lines, r.stderr).toHaveLength(3);
  expect(lines[2]).toBe('');
  if (typeof message === 'string') expect(lines[0]).toBe(`dnslinkd: ${message}`);
  else expect(lines[0]).toMatch(message);
  expect(lines[1]).toBe(`see: dnslinkd help${topic ? ` ${topic}` : ''}`);
}

// Each case starts Node a few times on a loaded 2-core box: the cases run their CLIs in parallel.
describe.skipIf(!ok)('dnslinkd usage', { timeout: 60_000 }, () => {
  it('every usage error is one line and the see-line of its command, exit 2', async () => {
    const cases: Array<[string[], string | RegExp, string]> = [
      [[], 'no command given', ''],
      [['serve', '--port', '53'], 'serve has no flag --port', 'serve'],
      [['serve', 'extra'], 'serve takes no arguments, got "extra"', 'serve'],
      [['serve', '--workers', 'many'], '--workers takes a whole number of processes from 1 to 256 (got "many")', 'serve'],
      [['serve', '--admin', '8054'], '--admin takes HOST:PORT or a URL, such as 127.0.0.1:8054, [::1]:8054 or http://127.0.0.1:8054 (got "8054")', 'serve'],
      [['serve', '--admin', 'https://127.0.0.1:1', '--no-local-records'], '--admin https://127.0.0.1:1: the admin API speaks plain http (admin.tls is not set); give HOST:PORT or a URL with that scheme', 'serve'],
      [['resolve'], 'resolve takes exactly one NAME, got 0', 'resolve'],
      [['flush', '--name'], '--name needs a value', 'flush'],
      [['flush'], /^dnslinkd: flush needs exactly one of --name NAME, --suffix ZONE or --all \(got none\)$/, 'flush'],
      [['override'], 'override needs a subcommand: set, pin, rm, ls, export, import, restore, accept-reset', 'override'],
      [['override', 'set', 'x.example.org'], 'override set takes NAME VALUE, got "x.example.org"', 'override set'],
      [['override', 'rm', 'x.example.org'], /^dnslinkd: override rm needs --reason R: say why/, 'override rm'],
      [['override', 'ls', '--reason', 'x'], 'override ls has no flag --reason', 'override ls'],
      [['audit', '--limit', '0'], '--limit takes a whole number of records from 1 to 1000 (got "0")', 'audit'],
      [['cache', 'drop'], 'cache takes ls or show NAME (got "drop"); to remove entries, use flush', 'cache'],
      [['cache', 'ls', '--top', '0'], '--top takes a whole number of entries from 1 to 1000 (got "0")', 'cache ls'],
      [['deny', 'ad'], 'deny takes add, rm, ls, status, check or accept (got "ad"; did you mean add?)', 'deny'],
      [['deny', 'ls', '--reason', 'x'], 'deny ls does not take --reason', 'deny ls'],
      [['status', '--admin', 'localhost'], '--admin takes HOST:PORT or a URL, such as 127.0.0.1:8054, [::1]:8054 or http://127.0.0.1:8054 (got "localhost")', 'status'],
      [['help', 'nothing'], 'no help for "nothing": not a command', ''],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    cases.forEach(([args, message, topic], i) => {
      try {
        usageError(results[i]!, message, topic);
      } catch (err) {
        throw new Error(`dnslinkd ${args.join(' ')}: ${(err as Error).message}`);
      }
    });
  });

  it('--ttl -5 and --ttl abc name the flag and its range (not "ambiguous")', async () => {
    const base = ['override', 'set', 'x.example.org', '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', '--reason', 'r', '--ttl'];
    const [negative, word, attached] = await Promise.all([cli([...base, '-5']), cli([...base, 'abc']), cli([...base.slice(0, -1), '--ttl=-1'])]);
    usageError(negative, '--ttl takes a whole number of seconds from 0 to 86400 (got "-5")', 'override set');
    usageError(word, '--ttl takes a whole number of seconds from 0 to 86400 (got "abc")', 'override set');
    usageError(attached, '--ttl takes a whole number of seconds from 0 to 86400 (got "-1")', 'override set');
  });

  it('a misspelt flag, command or subcommand gets "did you mean"', async () => {
    const [flag, resolveFlag, command, sub, value] = await Promise.all([
      cli(['serve', '--upstrem', 'udp://127.0.0.1:53']),
      cli(['resolve', 'example.com', '--jsno']),
      cli(['overide', 'ls']),
      cli(['override', 'lss']),
      cli(['flush', '--name', '--dry-run']),
    ]);
    usageError(flag, 'serve has no flag --upstrem; did you mean --upstream?', 'serve');
    usageError(resolveFlag, 'resolve has no flag --jsno; did you mean --json?', 'resolve');
    usageError(command, 'unknown command "overide"; did you mean override?', '');
    usageError(sub, 'override has no subcommand "lss"; did you mean ls? (it takes set, pin, rm, ls, export, import, restore, accept-reset)', 'override');
    usageError(value, '--name needs a value, not the flag "--dry-run" (to give a value starting with "-", write --name=--dry-run)', 'flush');
  });

  it('help <command> and <command> --help print the same text of that command, not the global help', async () => {
    const [global, dashH, helpOverride, overrideHelp, helpSet, setHelp, serveHelp, helpServe, resolveHelp] = await Promise.all([
      cli(['help']),
      cli(['--help']),
      cli(['help', 'override']),
      cli(['override', '--help']),
      cli(['help', 'override', 'set']),
      cli(['override', 'set', '--help']),
      cli(['serve', '--help']),
      cli(['help', 'serve']),
      cli(['resolve', '-h']),
    ]);
    for (const r of [global, dashH, helpOverride, overrideHelp, helpSet, setHelp, serveHelp, helpServe, resolveHelp]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(dashH.stdout).toBe(global.stdout);
    // The global help lists every command, one line each, and no command's flags.
    const listed = global.stdout.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(['serve', 'resolve', 'status', 'flush', 'override', 'cache', 'deny', 'audit', 'reload']);
    expect(global.stdout.split('\n').length).toBeLessThan(20);
    // status is the instance's screen, not only the control plane's (issue 17).
    expect(global.stdout.split('\n').find((l) => l.startsWith('  status '))).toBe('  status    one screen on the instance: listeners, workers, cache, upstreams, ENS, control store');

    expect(overrideHelp.stdout).toBe(helpOverride.stdout);
    expect(helpOverride.stdout).not.toBe(global.stdout);
    expect(helpOverride.stdout.split('\n').slice(0, 2)).toEqual(['Usage:', '  dnslinkd override set NAME VALUE --reason R [--ttl S] [--expires T] [--dry-run] [--force]']);
    expect(helpOverride.stdout).toMatch(/^6 what answered is not a dnslinkd admin API/m);

    expect(setHelp.stdout).toBe(helpSet.stdout);
    expect(setHelp.stdout).not.toBe(helpOverride.stdout);
    expect(setHelp.stdout.split('\n').filter((l) => l.startsWith('  dnslinkd '))).toEqual(['  dnslinkd override set NAME VALUE --reason R [--ttl S] [--expires T] [--dry-run] [--force]']);
    expect(setHelp.stdout).toMatch(/^ {2}--ttl S +TTL of the answers, 0 to 86400 seconds/m);

    expect(serveHelp.stdout).toBe(helpServe.stdout);
    expect(serveHelp.stdout).toMatch(/^ {2}--admin HOST:PORT +admin\.listen/m);
    expect(resolveHelp.stdout).toMatch(/^ {2}dnslinkd resolve NAME /m);
    expect(new Set([global.stdout, helpOverride.stdout, helpSet.stdout, serveHelp.stdout, resolveHelp.stdout]).size).toBe(5);
  });

  it('-v, --version and version print the version', async () => {
    const results = await Promise.all([cli(['-v']), cli(['--version']), cli(['version'])]);
    for (const r of results) expect(r).toEqual({ code: 0, stdout: `dnslinkd ${VERSION}\n`, stderr: '' });
  });
});
