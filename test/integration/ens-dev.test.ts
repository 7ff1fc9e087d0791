// `npm run ens:dev` (scripts/ens-dev.ts), run as package.json says: it starts anvil, deploys ENS and
// prints the dnslinkd configuration; dnslinkd started with exactly that configuration answers the
// example name with the contenthash read back from the chain (over DNS and the resolution API, with
// the query commands the script prints, only their ports changed); SIGINT stops the script and anvil.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPublicClient, http, type Address, type Hex } from 'viem';
import { namehash } from 'viem/ens';
import { afterAll, describe, expect, it } from 'vitest';
import { builtMain, digAt, exitedWith, freePort, repoRoot, requireBinaries, requireBuild, runTool, spawnManaged, startDnslinkd, stopAll, txtValue, waitFor } from './support/index.js';
import type { DnslinkdHandle, Managed } from './support/index.js';
import { requireAnvil, rpc } from './support/anvil.js';
import { contenthashResolverAbi, ensRegistryAbi } from './support/ens-chain.js';
import { projectNode } from './support/doc-snippets.js';

const ok = requireBinaries('dig', 'curl', 'bash') && requireBuild() && requireAnvil();

/** `npm run ens:dev`'s command line from package.json, on the project's Node. */
function ensDevCommand(): { cmd: string; args: string[] } {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [first, ...rest] = (scripts['ens:dev'] ?? '').split(/\s+/);
  expect(first).toBe('node');
  return { cmd: projectNode(), args: rest };
}

/** What the script printed: anvil's pid, the configuration (the JSON after its heading), the example's name and value, the query commands. */
function parseOutput(out: string) {
  const pid = Number(/anvil \(pid (\d+)\)/.exec(out)?.[1]);
  const [, name, value] = /^ {2}(\S+\.eth) contenthash -> (\S+)$/m.exec(out) ?? [];
  const afterHeading = out.slice(out.indexOf('\n', out.indexOf('dnslinkd configuration')) + 1);
  const config = JSON.parse(afterHeading.slice(0, afterHeading.indexOf('\n}') + 2)) as { ens: { rpc: string[]; registry: Address; suffixes: string[] } };
  const queries = out.split('\n').filter((l) => /^ {2}(dig|curl) /.test(l)).map((l) => l.trim());
  return { pid, name: name!, value: value!, config, queries };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!ok)('npm run ens:dev', () => {
  let script: Managed;
  let d: DnslinkdHandle | undefined;
  let anvilPid: number | undefined;
  afterAll(async () => {
    await d?.stop();
    await script?.stop();
    await stopAll();
    // anvil has its own process group: never leave it behind, whatever failed above.
    if (anvilPid && alive(anvilPid)) process.kill(anvilPid, 'SIGKILL');
  });

  it('prints a configuration dnslinkd resolves the example name with; SIGINT stops it and anvil', async () => {
    const { cmd, args } = ensDevCommand();
    const anvilPort = await freePort();
    script = spawnManaged('ens:dev', cmd, [...args, '--anvil-port', String(anvilPort)], { cwd: repoRoot });
    await waitFor('ens:dev ready', async () => script.output().includes('Ctrl-C stops anvil'), 30_000, { abortIf: exitedWith(script) });
    const out = parseOutput(script.output());
    anvilPid = out.pid;
    expect(alive(out.pid)).toBe(true);
    expect(out.config.ens.rpc).toEqual([`http://127.0.0.1:${anvilPort}`]);
    expect(out.config.ens.suffixes).toEqual(['eth']);
    expect(out.name).toBe('example.eth');

    // The chain itself says what the name's contenthash is (read through the printed registry), and dnslinkd's decoder says what it serves.
    const chain = createPublicClient({ transport: http(out.config.ens.rpc[0]) });
    const node = namehash(out.name);
    const resolver = await chain.readContract({ address: out.config.ens.registry, abi: ensRegistryAbi, functionName: 'resolver', args: [node] });
    const onChain = (await chain.readContract({ address: resolver, abi: contenthashResolverAbi, functionName: 'contenthash', args: [node] })) as Hex;
    const { decodeContenthash } = (await import(pathToFileURL(join(builtMain, '..', '..', 'stages', 'ens', 'contenthash.js')).href)) as {
      decodeContenthash(b: Uint8Array): { kind: string; value?: string };
    };
    const decoded = decodeContenthash(Buffer.from(onChain.slice(2), 'hex'));
    expect(decoded).toEqual({ kind: 'dnslink', value: out.value });

    // dnslinkd with the printed configuration, as printed (no upstream needed for .eth).
    d = await startDnslinkd({ upstreams: [], config: { upstreams: [], ...out.config } });
    const api = (await (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${out.name}`)).json()) as { value: string; source: string };
    expect(api).toMatchObject({ value: decoded.value, source: 'ens' });

    const dns = await digAt(d.dnsPort, `_dnslink.${out.name}`, 'TXT');
    expect(dns.parsed?.status, dns.stdout + dns.stderr + d.logs()).toBe('NOERROR');
    expect(dns.parsed?.answers.map((a) => txtValue(a.data))).toEqual([`dnslink=${decoded.value}`]);

    // The query commands it prints, with this dnslinkd's ports for the default ones.
    expect(out.queries).toHaveLength(2);
    for (const q of out.queries) {
      const line = q.replace('-p 10053', `-p ${d.dnsPort}`).replace('127.0.0.1:8053', `127.0.0.1:${d.httpPort}`);
      const r = await runTool('bash', ['-c', line], 10_000);
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      expect(r.stdout, line).toContain(decoded.value!);
    }

    // Ctrl-C: the script stops anvil, then exits 0; nothing answers on the RPC port.
    process.kill(script.child.pid!, 'SIGINT');
    await waitFor('ens:dev exited', async () => script.exitCode !== undefined, 10_000);
    expect(script.exitCode).toBe(0);
    expect(script.output()).toMatch(/anvil stopped/);
    expect(alive(out.pid)).toBe(false);
    await expect(rpc(out.config.ens.rpc[0]!, 'eth_chainId', [], 1000)).rejects.toThrow();
  }, 60_000);
});
