// The container image, without a Docker engine: the Dockerfile parsed and checked (what its runtime
// stage installs, computed from package-lock.json the way npm's --omit rules do: no TypeScript
// compiler, every package dist/ imports; the data directory a VOLUME; no demo records; every path
// it copies exists), and its pieces run for real: the health check script against a dnslinkd
// started with the image's environment on other ports (it follows the configured port), and the
// admin CLI as `docker exec dnslinkd dnslinkd ...` runs it (through the same link, with the image's
// environment only: it finds the admin API and the generated token by itself).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtMain, cliEntry, freePort, repoRoot, requireBuild, spawnManaged, stopAll, waitFor } from './support/index.js';
import type { Managed } from './support/index.js';
import { projectNode } from './support/doc-snippets.js';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages: comments dropped, continuation lines joined, each instruction its keyword and the rest. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    if (/\\\s*$/.test(raw)) {
      current += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    current += raw;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\w+)\s+([\s\S]*)$/.exec(line) ?? [];
    if (!keyword) throw new Error(`Dockerfile: cannot read "${line}"`);
    if (keyword.toUpperCase() === 'FROM') {
      const [from, as, name] = args!.split(/\s+/);
      stages.push({ from: from!, ...(as?.toUpperCase() === 'AS' ? { name } : {}), instructions: [] });
      continue;
    }
    stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args: args!.replace(/\s+/g, ' ').trim() });
  }
  return stages;
}

/** ENV key=value pairs (quoted values unquoted), in order. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(\S+))/g)) env[m[1]!] = m[2] ?? m[3] ?? m[4]!;
  }
  return env;
}

interface LockPackage {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  bin?: Record<string, string>;
}

/** The package-lock entries `npm ci` installs with these --omit kinds (npm's Node.shouldOmit: devOptional goes only when dev and optional both are omitted). */
function installedWith(omit: Set<string>): Map<string, LockPackage> {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const kept = new Map<string, LockPackage>();
  for (const [path, p] of Object.entries(lock.packages)) {
    if (!path) continue;
    const devOptional = !!(p.devOptional || p.dev || p.optional);
    const omitted = (p.peer && omit.has('peer')) || (p.dev && omit.has('dev')) || (p.optional && omit.has('optional')) || (devOptional && omit.has('optional') && omit.has('dev'));
    if (!omitted) kept.set(path, p);
  }
  return kept;
}

/** The packages the compiled code imports (bare specifiers of dist/**\/*.js), by package name. */
function packagesImportedByDist(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.js')) {
        const code = readFileSync(path, 'utf8');
        for (const m of code.matchAll(/(?:from\s+|import\s*\(\s*|require(?:\.resolve)?\s*\(\s*)['"]([^'"]+)['"]/g)) {
          const spec = m[1]!;
          if (spec.startsWith('.') || spec.startsWith('node:') || spec.startsWith('/')) continue;
          names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        }
      }
    }
  };
  walk(join(repoRoot, 'dist'));
  return names;
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const build = stages.find((s) => s.name === 'build');
const runtimeEnv = envOf(runtime);
const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

describe('the Dockerfile', () => {
  it('builds in a stage of its own with the TypeScript compiler, to the dist/ the runtime stage copies', () => {
    expect(stages).toHaveLength(2);
    expect(build).toBeDefined();
    const tscRun = runs(build!).find((r) => /\btsc\b/.test(r));
    expect(tscRun).toMatch(/tsc -p tsconfig\.build\.json/);
    const outDir = (JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir;
    const workdir = build!.instructions.find((i) => i.keyword === 'WORKDIR')!.args;
    const fromBuild = runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from=build'));
    // Only the compiled code comes from the build stage (its node_modules hold the dev dependencies):
    // dist/ and the batched UDP addon that native/udp-batch/build.mjs compiled there (a .node file,
    // no compiler), where the addon loader looks for it.
    expect(fromBuild.map((i) => i.args.split(' ')[1])).toEqual([join(workdir, outDir), join(workdir, 'native/udp-batch/build')]);
    expect(runs(build!).some((r) => r.includes('node native/udp-batch/build.mjs'))).toBe(true);
    // The operator console's front end, bundled into dist/console/ there (docs/console.md).
    expect(runs(build!).some((r) => r.includes('node scripts/build-console.mjs'))).toBe(true);
  });

  it('the runtime stage installs no dev dependency and no TypeScript compiler, and every package dist/ imports', () => {
    const installs = runs(runtime).filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(installs).toHaveLength(1);
    expect(runs(runtime).join('\n')).not.toMatch(/\btsc\b|npm run build/);
    const omit = new Set([...installs[0]!.matchAll(/--omit[= ](\w+)/g)].map((m) => m[1]!));
    expect(installs[0]).toMatch(/^npm ci\b/);
    const kept = installedWith(omit);
    const devDependencies = Object.keys((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies);
    for (const name of devDependencies) expect(kept.has(`node_modules/${name}`), `devDependency ${name} installed in the runtime image`).toBe(false);
    const compilers = [...kept].filter(([, p]) => p.bin && 'tsc' in p.bin).map(([path]) => path);
    expect(compilers, 'a package with a tsc binary in the runtime image').toEqual([]);
    expect([...kept.keys()].filter((path) => path.includes('@typescript/'))).toEqual([]);
    const imported = packagesImportedByDist();
    expect(imported.size).toBeGreaterThan(3);
    for (const name of imported) expect(kept.has(`node_modules/${name}`), `dist/ imports ${name}, which the runtime stage does not install`).toBe(true);
  });

  it('keeps the data directory it configures in a VOLUME the runtime user owns, and serves no demo records unless asked', async () => {
    const { loadConfig } = (await import(pathToFileURL(join(builtMain, '..', '..', 'config', 'load.js')).href)) as {
      loadConfig(o: { env: NodeJS.ProcessEnv }): { dataDir: string; localRecords: string | null; http: { listen: string } };
    };
    const config = loadConfig({ env: runtimeEnv });
    const volumes = runtime.instructions.filter((i) => i.keyword === 'VOLUME').flatMap((i) => (i.args.startsWith('[') ? (JSON.parse(i.args) as string[]) : i.args.split(' ')));
    expect(volumes).toEqual([config.dataDir]);
    expect(config.dataDir).not.toMatch(/^\/home\//);
    const user = runtime.instructions.find((i) => i.keyword === 'USER')?.args;
    expect(user).toBe('node');
    expect(runs(runtime).some((r) => r.includes(`mkdir -p ${config.dataDir}`) && r.includes(`chown ${user}:${user} ${config.dataDir}`))).toBe(true);
    expect(config.localRecords).toBeNull();
    // Asked for with the variable the Dockerfile names, the demo file is in the image.
    const demo = /DNSLINKD_LOCAL_RECORDS=(\/app\/\S+)/.exec(dockerfile)?.[1];
    expect(demo).toBeDefined();
    const copiesDemo = runtime.instructions.filter((i) => i.keyword === 'COPY').some((i) => `/app/${i.args.split(' ')[1]!.replace(/^\.\//, '')}` === demo);
    expect(copiesDemo).toBe(true);
  });

  it('copies only paths that exist, none that .dockerignore leaves out', () => {
    const ignored = existsSync(join(repoRoot, '.dockerignore'))
      ? readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim().replace(/^\/|\/$/g, '')).filter((l) => l && !l.startsWith('#'))
      : [];
    const sources = stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(' ').slice(0, -1)));
    expect(sources.length).toBeGreaterThan(4);
    for (const src of sources) {
      expect(existsSync(join(repoRoot, src)), `COPY ${src}`).toBe(true);
      expect(ignored.filter((pattern) => src.replace(/^\.\//, '') === pattern || src.replace(/^\.\//, '').startsWith(`${pattern}/`)), `COPY ${src} is in .dockerignore`).toEqual([]);
    }
  });

  it('health-checks with the script the build compiles', () => {
    const check = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK')!.args;
    const cmd = JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd[1]).toMatch(/^dist\//);
    expect(existsSync(join(repoRoot, cmd[1]!))).toBe(true);
    expect(existsSync(join(repoRoot, cmd[1]!.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')))).toBe(true);
    expect(check).not.toMatch(/8053/);
  });
});

describe.skipIf(!requireBuild())('the image\'s health check and admin CLI, run for real (no Docker engine: the same commands, the image\'s environment)', () => {
  const check = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK')!.args;
  const healthCmd = JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[];
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let d: Managed;
  let httpPort: number;

  /** A command as the container runs it: the image's environment, the checkout as /app, the project's Node as `node`. */
  const inImage = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(cmd, args, { cwd: repoRoot, env: { ...env, ...extra }, timeout: 15_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr) }),
      );
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-image-'));
    // `node` on the PATH is the project's Node 24, as in the node:24 image; `dnslinkd` the same link as /usr/local/bin/dnslinkd.
    const link = /ln -s (\S+) (\S+)/.exec(runs(runtime).join('\n'))!;
    expect(link[1]).toBe('/app/bin/dnslinkd.js');
    const binDir = join(dir, 'bin');
    mkdirSync(binDir);
    symlinkSync(cliEntry, join(binDir, link[2]!.split('/').at(-1)!));
    httpPort = await freePort();
    // The image's environment; the ports and the data directory moved (another dnslinkd may hold the defaults).
    env = {
      ...runtimeEnv,
      PATH: `${binDir}:${dirname(projectNode())}:/usr/bin:/bin`,
      HOME: dir,
      DNSLINKD_DNS: `127.0.0.1:${await freePort()}`,
      DNSLINKD_HTTP: `127.0.0.1:${httpPort}`,
      DNSLINKD_ADMIN__LISTEN: `127.0.0.1:${await freePort()}`,
      DNSLINKD_DATA_DIR: join(dir, 'data'),
      DNSLINKD_UPSTREAMS: 'udp://127.0.0.1:9',
    };
    d = spawnManaged('dnslinkd', projectNode(), [cliEntry, 'serve'], { cwd: repoRoot, env });
    await waitFor('dnslinkd (image environment)', async () => (await fetch(`http://127.0.0.1:${httpPort}/livez`, { signal: AbortSignal.timeout(1000) })).ok, 20_000, {
      abortIf: () => (d.exitCode !== undefined ? `exited ${d.exitCode}: ${d.output()}` : undefined),
    });
  });
  afterAll(async () => {
    await d?.stop();
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the health check asks the configured port, not 8053: healthy while dnslinkd serves, unhealthy once it stops', async () => {
    expect(httpPort).not.toBe(8053);
    const ok = await inImage(healthCmd[0]!, healthCmd.slice(1));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`http://127.0.0.1:${httpPort}/livez answered 200`);

    // The port from a config file (DNSLINKD_CONFIG) when no variable sets it.
    const file = join(dir, 'dnslinkd.json');
    writeFileSync(file, JSON.stringify({ http: { listen: `0.0.0.0:${httpPort}` } }));
    const fromFile = await inImage(healthCmd[0]!, healthCmd.slice(1), { DNSLINKD_HTTP: undefined, DNSLINKD_CONFIG: file });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toContain(`http://127.0.0.1:${httpPort}/livez answered 200`);

    // No demo records in the image's configuration.
    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json()) as { localRecords: number };
    expect(health.localRecords).toBe(0);

    // `docker exec dnslinkd dnslinkd override ls`: the CLI inside finds the admin API and the token in the data dir.
    const ls = await inImage('dnslinkd', ['override', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    const set = await inImage('dnslinkd', ['override', 'set', 'site.example', '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34', '--reason', 'docker exec']);
    expect(set.code, set.stderr).toBe(0);
    expect((await inImage('dnslinkd', ['override', 'ls'])).stdout).toMatch(/site\.example\s.*\/ipfs\/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34/);
    expect(existsSync(join(env.DNSLINKD_DATA_DIR!, 'admin-token'))).toBe(true);

    await d.stop();
    const down = await inImage(healthCmd[0]!, healthCmd.slice(1));
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`http://127.0.0.1:${httpPort}/livez did not answer (ECONNREFUSED)`);
  }, 40_000);
});
