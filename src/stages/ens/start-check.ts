// The ENS check at start: each RPC endpoint is asked its chain (eth_chainId) and for the code at
// ens.registry (eth_getCode). No code there is a start error naming the key and the chain (every
// ENS name would fail); an endpoint that does not answer is a warning only (it may come back).
// The start log says which resolution path is used: `universal-resolver` (ens.universalResolver
// has code there) or `registry` (the registry walk).
import type { Logger } from 'pino';
import { CodedError } from '../../errors.js';
import type { EnsStage } from './ens-stage.js';

export async function checkEnsAtStart(stage: EnsStage, registry: string, log: Logger): Promise<void> {
  const client = stage.rpcClient;
  if (!client) return;
  const probes = await client.probe();
  const answered = probes.flatMap((p) => ('chainId' in p ? [p] : []));
  const silent = probes.flatMap((p) => ('error' in p ? [p] : []));
  const missing = answered.find((p) => !p.registryCode);
  if (missing) {
    throw new CodedError(
      'ENS_NO_REGISTRY',
      `ens.registry: no contract at ${registry} on chain ${missing.chainId} (ens.rpc ${missing.endpoint}): set ens.registry to the ENS registry of that chain, or point ens.rpc at a chain that has one (mainnet's is the default)`,
    );
  }
  for (const p of silent) {
    log.warn({ endpoint: p.endpoint, error: p.error }, `ENS RPC endpoint ${p.endpoint} did not answer at start (${p.error}): starting anyway, ENS names it would answer fail over to the others or get SERVFAIL until one answers`);
  }
  const chains = [...new Set(answered.map((p) => p.chainId))];
  if (chains.length > 1) log.warn({ chains: answered.map((p) => ({ endpoint: p.endpoint, chainId: p.chainId })) }, `the ENS RPC endpoints (ens.rpc) serve different chains (${chains.join(', ')}): their answers may differ`);
  if (answered.length > 0) log.info({ chainId: chains[0], registry, endpoints: probes.length, answered: answered.length }, 'ENS registry found on chain');
  if (answered.length > 0) {
    const path = await client.resolutionPath().catch(() => undefined);
    if (path) log.info({ ensResolution: path, universalResolver: client.universalResolver }, `ENS names are resolved through ${path === 'universal-resolver' ? `the Universal Resolver at ${client.universalResolver}` : `the registry walk (ens.registry; no Universal Resolver code at ${client.universalResolver ?? 'ens.universalResolver'})`}: ${path}`);
  }
}
