// The code blocks of the operator docs (docs/*.md, README.md) that tests run as printed: finding
// them by their marker (a `<!-- test: ID KIND -->` comment before the fence, or a tag in the fence's
// info string such as ```sh drill), the one substitution allowed (the dnslinkd URL), and running
// a block as a stand-alone Node program in a scratch project or as a shell script.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** What the docs write for a dnslinkd's URL; a test replaces it, and nothing else, with the one it runs. */
export const DOC_DNSLINKD_ORIGIN = 'https://dnslinkd.example.net';

/** A block marked `<!-- test: ID KIND -->`: KIND says how it is run or checked. */
export interface MarkedSnippet {
  /** docs/gateways.md, README.md, ... (relative to the repository) */
  doc: string;
  id: string;
  kind: string;
  /** the fence's language (js, json, sh, ...) */
  lang: string;
  code: string;
  /** 1-based line of the fence */
  line: number;
}

/** The documentation files tests may run blocks of: README.md and every page of docs/. */
export function docFiles(): string[] {
  const docs = readDirMarkdown(join(repoRoot, 'docs')).map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

function readDirMarkdown(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.md')).sort();
}

export function readDoc(doc: string): string {
  return readFileSync(join(repoRoot, doc), 'utf8');
}

interface Fence {
  info: string;
  code: string;
  /** 1-based line of the opening fence */
  line: number;
  /** the text before the fence, on the lines above it (for markers) */
  before: string;
}

/** Every fenced block of a page, indented ones (in a list) included, the indentation removed. */
export function fences(text: string): Fence[] {
  const lines = text.split('\n');
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^ *```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(Math.min(indent, /^ */.exec(lines[j]!)![0].length)));
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    out.push({ info: open[2]!.trim(), code: body.join('\n') + '\n', line: i + 1, before: k >= 0 ? lines[k]!.trim() : '' });
    i = j;
  }
  return out;
}

const MARKER = /^<!--\s*test:\s*([\w.-]+)\s+([\w.-]+)\s*-->$/;

/** The blocks of a page marked `<!-- test: ID KIND -->` (the comment on the line before the fence, blank lines between allowed). */
export function markedSnippets(doc: string): MarkedSnippet[] {
  return fences(readDoc(doc)).flatMap((f) => {
    const m = MARKER.exec(f.before);
    return m ? [{ doc, id: m[1]!, kind: m[2]!, lang: f.info.split(/\s+/)[0] ?? '', code: f.code, line: f.line }] : [];
  });
}

/** Markers `<!-- test: ... -->` that are not in the ID KIND form or not right before a fence: a typo would leave a block untested. */
export function strayMarkers(doc: string): string[] {
  const text = readDoc(doc);
  const marked = new Set(fences(text).map((f) => f.before));
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^<!--\s*test:/.test(l) && (!MARKER.test(l) || !marked.has(l)));
}

/** The bodies of the blocks whose info string is `<lang> <tag>` (```sh drill), in order. */
export function taggedBlocks(doc: string, tag: string, lang = 'sh'): string[] {
  return fences(readDoc(doc))
    .filter((f) => f.info.split(/\s+/)[0] === lang && f.info.split(/\s+/)[1] === tag)
    .map((f) => f.code);
}

/** The tags of every tagged block of a page (```sh drill -> "sh drill"). */
export function blockTags(doc: string): string[] {
  return [...new Set(fences(readDoc(doc)).filter((f) => f.info.split(/\s+/).length > 1).map((f) => f.info.split(/\s+/).slice(0, 2).join(' ')))];
}

/** A shell-style line cut into words, double quotes grouping ("a b" -> one word). */
export function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The `<prefix>...` lines of a block, each as the CLI's arguments (the prefix removed). */
export function cliSteps(block: string, prefix = 'npx dnslinkd '): string[][] {
  return block
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => shellWords(line.slice(prefix.length)));
}

/** The non-blank, non-comment lines of a block. */
export function commandLines(block: string): string[] {
  return block.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

/** A snippet with the docs' dnslinkd URL replaced by a running one's origin (`http://127.0.0.1:PORT`): the only change a test makes. */
export function withDnslinkdOrigin(code: string, origin: string): string {
  return code.split(DOC_DNSLINKD_ORIGIN).join(origin);
}

/** The project's own Node 24 (node_modules/.bin/node), the one the docs tell operators they get. */
export function projectNode(): string {
  const node = join(repoRoot, 'node_modules', '.bin', 'node');
  return existsSync(node) ? node : process.execPath;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * Runs a JavaScript snippet as its own program, the way a reader who copies it would: a scratch
 * project (a temp folder with `"type": "module"` when the snippet uses `import`, and the
 * repository's node_modules linked in so the packages it imports resolve), the file written as
 * printed, `node snippet.js` on the project's Node 24. The folder is removed afterwards.
 */
export async function runNodeSnippet(code: string, timeoutMs = 20_000): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-snippet-'));
  try {
    const esm = /^\s*import\s/m.test(code);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'doc-snippet', private: true, ...(esm ? { type: 'module' } : {}) }, null, 2));
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'snippet.js'), code);
    return await run(projectNode(), ['snippet.js'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir }, timeoutMs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a shell snippet with bash (-e, -u, pipefail) in `cwd`, with `env` added to this process's
 * environment less its DNSLINKD_* variables (a reader's shell has none the page does not set).
 */
export function runShellSnippet(code: string, opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));
  return run('bash', ['-eu', '-o', 'pipefail', '-c', code], { cwd: opts.cwd, env: { ...base, ...opts.env }, timeoutMs: opts.timeoutMs ?? 15_000 });
}

/**
 * A folder holding a `dnslinkd` command (the built CLI on this Node), to put first in PATH so that a
 * block's `dnslinkd ...` lines run the checkout's dnslinkd as an installed one would. Remove it after.
 */
export function dnslinkdOnPath(): { dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-path-'));
  writeFileSync(join(dir, 'dnslinkd'), `#!/bin/sh\nexec "${projectNode()}" "${join(repoRoot, 'bin', 'dnslinkd.js')}" "$@"\n`, { mode: 0o755 });
  return { dir, path: `${dir}:${process.env.PATH ?? ''}`, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
