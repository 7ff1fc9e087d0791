// `npm run ens:dev`: ENS on a local chain to try dnslinkd's ENS answers without a provider. Starts
// anvil (npm @foundry-rs/anvil) on 127.0.0.1, deploys the ENS registry and public resolver
// (scripts/ens/ens-chain.ts, as the ENS tests do), registers example.eth with an ipfs contenthash,
// prints the dnslinkd configuration and the queries to try, and stays up until SIGINT, SIGTERM or
// SIGHUP, which stop anvil before the script exits.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ANVIL_CHAIN_ID, findAnvil, rpc } from './ens/anvil-node.js';
import { deployEns, ipfsContenthash } from './ens/ens-chain.js';

const USAGE = 'usage: npm run ens:dev [-- --anvil-port PORT] [--name NAME.eth]';
const EXAMPLE_NAME = 'example.eth';

function fail(message: string): never {
  process.stderr.write(`ens:dev: ${message}\n`);
  process.exit(1);
}

let args: { 'anvil-port'?: string; name?: string };
try {
  ({ values: args } = parseArgs({ options: { 'anvil-port': { type: 'string' }, name: { type: 'string' } }, strict: true }));
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
const port = Number(args['anvil-port'] ?? 8545);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--anvil-port ${args['anvil-port']}: expected a port number (1-65535)\n${USAGE}`);
const name = (args.name ?? EXAMPLE_NAME).toLowerCase();
if (!/^([a-z0-9-]+\.)+eth$/.test(name)) fail(`--name ${name}: expected a name under .eth (letters, digits, hyphens)\n${USAGE}`);

const bin = findAnvil();
if (!bin) fail('anvil not found: run npm install (it brings @foundry-rs/anvil), or set ANVIL_BIN');

const rpcUrl = `http://127.0.0.1:${port}`;
// Its own process group: Ctrl-C reaches this script only, which then stops anvil (and says so).
const anvil = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(ANVIL_CHAIN_ID), '--silent'], {
  stdio: ['ignore', 'ignore', 'pipe'],
  detached: true,
});
let anvilErr = '';
anvil.stderr.on('data', (chunk: Buffer) => (anvilErr = (anvilErr + chunk.toString('utf8')).slice(-2000)));
let stopping = false;
const anvilExited = new Promise<number | null>((resolve) => anvil.on('exit', (code) => resolve(code)));
anvil.on('error', (err) => fail(`cannot start anvil (${bin}): ${err.message}`));
void anvilExited.then((code) => {
  if (!stopping) fail(`anvil exited (${code ?? 'killed'}) ${anvilErr.trim()}`);
});

/** Stops anvil (SIGTERM, SIGKILL after 5 s) and exits: 0 on SIGINT (Ctrl-C), SIGTERM or SIGHUP (terminal closed); 1 when setting up failed. */
async function stop(exitCode: number): Promise<never> {
  stopping = true;
  if (anvil.exitCode === null && anvil.signalCode === null) {
    anvil.kill('SIGTERM');
    const timer = setTimeout(() => anvil.kill('SIGKILL'), 5000);
    await anvilExited;
    clearTimeout(timer);
  }
  process.stdout.write('ens:dev: anvil stopped\n');
  process.exit(exitCode);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));
process.once('SIGHUP', () => void stop(0));

try {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const chainId = await rpc<string>(rpcUrl, 'eth_chainId', [], 1000).catch(() => undefined);
    if (chainId !== undefined && Number(chainId) === ANVIL_CHAIN_ID) break;
    if (Date.now() > deadline) throw new Error(`anvil did not answer on ${rpcUrl} within 15 s (port taken? --anvil-port PORT) ${anvilErr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ens = await deployEns(rpcUrl);
  const content = ipfsContenthash(`dnslinkd ens:dev ${name}`);
  await ens.registerName(name, { contenthash: content.bytes });

  const config = { ens: { rpc: [rpcUrl], registry: ens.registry, suffixes: ['eth'] } };
  process.stdout.write(
    [
      `ENS on a local chain: anvil (pid ${anvil.pid}) at ${rpcUrl}, chain id ${ANVIL_CHAIN_ID}`,
      `  registry        ${ens.registry}`,
      `  public resolver ${ens.resolver}`,
      `  ${name} contenthash -> ${content.value}`,
      '',
      'dnslinkd configuration (save it as ens-dev.json; ens.registry is this chain\'s, not mainnet\'s):',
      JSON.stringify(config, null, 2),
      '',
      'Run dnslinkd with it, then ask:',
      '  npx dnslinkd serve --config ens-dev.json',
      `  dig @127.0.0.1 -p 10053 TXT _dnslink.${name}`,
      `  curl -s http://127.0.0.1:8053/v1/dnslink/${name}`,
      '',
      'Ctrl-C stops anvil (the chain is not kept).',
      '',
    ].join('\n'),
  );
} catch (err) {
  process.stderr.write(`ens:dev: ${(err as Error).message}\n`);
  await stop(1);
}
