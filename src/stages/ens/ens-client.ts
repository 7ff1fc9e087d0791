// Reads a name's contenthash from ENS the way ENS clients do (viem over JSON-RPC): the registry's
// resolver for the name or, walking up, an ENSIP-10 wildcard resolver of a parent; resolve(bytes,
// bytes) when the resolver supports it, following EIP-3668 CCIP-Read to its gateway (bounded in
// time and size), else contenthash(node). RPC endpoints are tried in order, with failover; every
// request to an endpoint or a gateway is timed, classified and reported (rpc-health.ts, metrics.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ContractFunctionRevertedError, createPublicClient, decodeErrorResult, decodeFunctionResult, encodeFunctionData, http, isHex, toHex, zeroAddress, type Address, type Hex, type PublicClient, type Transport } from 'viem';
import { namehash, packetToBytes } from 'viem/ens';
import { CodedError, errorMessage } from '../../errors.js';
import { readCapped } from '../../http-body.js';
import { classifyRequestFailure, endpointLabel, originOf, type RequestFailure, type RequestResult } from './rpc-failure.js';
import { plainText } from './plain-text.js';
import { RpcHealth, type EnsObserver } from './rpc-health.js';

const registryAbi = [{ type: 'function', name: 'resolver', stateMutability: 'view', inputs: [{ name: 'node', type: 'bytes32' }], outputs: [{ type: 'address' }] }] as const;
const resolverAbi = [
  { type: 'function', name: 'supportsInterface', stateMutability: 'view', inputs: [{ name: 'interfaceID', type: 'bytes4' }], outputs: [{ type: 'bool' }] },
  { type: 'function', name: 'contenthash', stateMutability: 'view', inputs: [{ name: 'node', type: 'bytes32' }], outputs: [{ type: 'bytes' }] },
  { type: 'function', name: 'resolve', stateMutability: 'view', inputs: [{ name: 'name', type: 'bytes' }, { name: 'data', type: 'bytes' }], outputs: [{ type: 'bytes' }] },
] as const;
const ENSIP10 = '0x9061b923';
/** ENSIP-23: the Universal Resolver's resolve(bytes name, bytes data) and the errors it raises. */
const universalResolverAbi = [
  { type: 'function', name: 'resolve', stateMutability: 'view', inputs: [{ name: 'name', type: 'bytes' }, { name: 'data', type: 'bytes' }], outputs: [{ type: 'bytes' }, { type: 'address' }] },
  { type: 'error', name: 'ResolverNotFound', inputs: [{ name: 'name', type: 'bytes' }] },
  { type: 'error', name: 'ResolverNotContract', inputs: [{ name: 'name', type: 'bytes' }, { name: 'resolver', type: 'address' }] },
  { type: 'error', name: 'UnsupportedResolverProfile', inputs: [{ name: 'selector', type: 'bytes4' }] },
  { type: 'error', name: 'ResolverError', inputs: [{ name: 'errorData', type: 'bytes' }] },
  { type: 'error', name: 'HttpError', inputs: [{ name: 'status', type: 'uint16' }, { name: 'message', type: 'string' }] },
] as const;
const solidityErrorAbi = [{ type: 'error', name: 'Error', inputs: [{ name: 'message', type: 'string' }] }] as const;

/** How names are read: through the Universal Resolver (ens.universalResolver has code) or the registry walk. */
export type ResolutionPath = 'universal-resolver' | 'registry';

export interface EnsClientOptions {
  rpc: readonly string[];
  registry: string;
  /** ENSIP-23 Universal Resolver: used when it has code on the chain, else the registry walk. */
  universalResolver?: string;
  rpcTimeoutMs: number;
  ccipTimeoutMs: number;
  ccipMaxBytes: number;
  now?: () => number;
  /** Where requests are reported: metrics and log lines (none: only the health view is kept). */
  observer?: EnsObserver;
}

export type ContenthashLookup =
  | { found: true; contenthash: Uint8Array; resolver: Address; wildcard: boolean; ccipRead: boolean; rpc: string }
  /** No resolver for the name or a wildcard one above it: the name does not exist in ENS. */
  | { found: false; rpc: string };

/** An RPC endpoint: its URL (never shown: it may hold an API key), its label, its client. */
interface Endpoint {
  index: number;
  url: string;
  label: string;
  client: PublicClient;
}

/** viem's HTTP transport with each request timed and reported (an endpoint's health counts each one). */
function observedTransport(base: Transport, report: (seconds: number, err: unknown) => void): Transport {
  return ((params) => {
    const transport = base(params);
    type Request = typeof transport.request;
    const request = (async (args: Parameters<Request>[0], options?: Parameters<Request>[1]) => {
      const started = performance.now();
      try {
        const result = await transport.request(args, options);
        report((performance.now() - started) / 1000, undefined);
        return result;
      } catch (err) {
        report((performance.now() - started) / 1000, err);
        throw err;
      }
    }) as Request;
    return { ...transport, request };
  }) as Transport;
}

/** How long a failed RPC endpoint is tried last. */
const PENALTY_MS = 30_000;

/** Per lookup: whether viem went to a CCIP-Read gateway (async context, so exact under concurrency). */
const lookupContext = new AsyncLocalStorage<{ ccipRead: boolean }>();

export class EnsClient {
  private readonly clients: Endpoint[];
  private readonly failedAt = new Map<string, number>();
  private readonly now: () => number;
  /** Whether ens.universalResolver has code on the chain: asked once (at start, or at the first lookup). */
  private pathChoice: Promise<ResolutionPath> | undefined;
  /** Each endpoint's state as its requests went (/healthz, /admin/v1/status). */
  readonly health: RpcHealth;

  constructor(private readonly options: EnsClientOptions) {
    this.now = options.now ?? Date.now;
    const labels = options.rpc.map((url, index) => endpointLabel(url, index));
    this.health = new RpcHealth(labels, { ...options.observer, now: this.now });
    this.clients = options.rpc.map((url, index) => {
      const report = (seconds: number, err: unknown) => this.health.record(index, seconds, err === undefined ? undefined : classifyRequestFailure(err, options.rpcTimeoutMs));
      return {
        index,
        url,
        label: labels[index]!,
        client: createPublicClient({
          transport: observedTransport(http(url, { timeout: options.rpcTimeoutMs, retryCount: 0 }), report),
          ccipRead: { request: (p) => this.ccipRequest(p.urls, p.sender, p.data) },
        }) as PublicClient,
      };
    });
  }

  /** ens.universalResolver (used when it has code on the chain). */
  get universalResolver(): string | undefined {
    return this.options.universalResolver;
  }

  /** The endpoints' labels, in order (`#n scheme://host[:port]`). */
  get endpointLabels(): string[] {
    return this.clients.map((c) => c.label);
  }

  private ccipReport(url: string, started: number, result: RequestResult): void {
    this.options.observer?.metrics?.ccipRequest(originOf(url), result, (performance.now() - started) / 1000);
  }

  /** EIP-3668: each gateway URL in turn, GET when it holds {data}, else POST; bounded in time and size. */
  private async ccipRequest(urls: readonly string[], sender: Address, data: Hex): Promise<Hex> {
    const context = lookupContext.getStore();
    if (context) context.ccipRead = true;
    const failures: string[] = [];
    for (const template of urls) {
      const url = template.replace('{sender}', sender.toLowerCase()).replace('{data}', data);
      const get = template.includes('{data}');
      const origin = originOf(url);
      const started = performance.now();
      let res: Response;
      try {
        res = await fetch(url, {
          method: get ? 'GET' : 'POST',
          ...(get ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data, sender }) }),
          signal: AbortSignal.timeout(this.options.ccipTimeoutMs),
        });
      } catch (err) {
        const failure = classifyRequestFailure(err, this.options.ccipTimeoutMs);
        this.ccipReport(url, started, failure.result);
        failures.push(`${origin}: ${failure.message}`);
        continue;
      }
      const tooLarge = () => new CodedError('CCIP_TOO_LARGE', `the gateway's answer is larger than ${this.options.ccipMaxBytes} bytes`);
      const body = await readCapped(res, this.options.ccipMaxBytes, tooLarge).then((bytes) => bytes.toString('utf8')).catch((err: unknown) => {
        const failure: RequestFailure = err instanceof CodedError ? { result: 'bad_response', cause: err.code, message: err.message } : classifyRequestFailure(err, this.options.ccipTimeoutMs);
        this.ccipReport(url, started, failure.result);
        failures.push(`${origin}: ${failure.message}`);
        return undefined;
      });
      if (body === undefined) continue;
      if (!res.ok) {
        this.ccipReport(url, started, 'http');
        failures.push(`${origin}: HTTP ${res.status}`);
        if (res.status >= 400 && res.status < 500) break; // EIP-3668: a 4xx ends the lookup
        continue;
      }
      let answer: unknown;
      try {
        answer = (JSON.parse(body) as { data?: unknown }).data;
      } catch {
        answer = undefined;
      }
      const ok = typeof answer === 'string' && isHex(answer);
      this.ccipReport(url, started, ok ? 'ok' : 'bad_response');
      if (ok) return answer as Hex;
      failures.push(`${origin}: the answer holds no hex "data"`);
    }
    throw new CodedError('CCIP_FAILED', `CCIP-Read gateway failed: ${failures.join('; ') || 'no gateway URL'}`);
  }

  private ordered(): Endpoint[] {
    const now = this.now();
    const penalized = (url: string) => {
      const at = this.failedAt.get(url);
      return at !== undefined && now - at < PENALTY_MS;
    };
    return [...this.clients.filter((c) => !penalized(c.url)), ...this.clients.filter((c) => penalized(c.url))];
  }

  /**
   * The contenthash of an ENS name (normalized), trying the RPC endpoints in order. Throws
   * ENS_RPC_FAILED naming each endpoint's failure when none could answer.
   */
  async contenthash(name: string): Promise<ContenthashLookup> {
    const failures: string[] = [];
    for (const { url, label, client } of this.ordered()) {
      try {
        const result = await this.lookup(client, name, label);
        this.failedAt.delete(url);
        return result;
      } catch (err) {
        // A gateway's failure is the name's, not the RPC endpoint's: no failover for it.
        if (err instanceof CodedError && (err.code.startsWith('CCIP_') || err.code.startsWith('ENS_UR_'))) throw err;
        const viemCause = (err as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk?.((e) => e instanceof CodedError);
        if (viemCause instanceof CodedError) throw viemCause;
        this.failedAt.set(url, this.now());
        failures.push(`${label}: ${describeLookupFailure(err, this.options.rpcTimeoutMs)}`);
      }
    }
    throw new CodedError('ENS_RPC_FAILED', `every ENS RPC endpoint failed: ${failures.join('; ') || 'none configured'}`);
  }

  /**
   * `read` at the first endpoint that answers, in the lookup order (the chain watch's block and log
   * reads). Throws ENS_RPC_FAILED naming each endpoint's failure when none could answer.
   */
  async withFailover<T>(read: (client: PublicClient) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    for (const { url, label, client } of this.ordered()) {
      try {
        const result = await read(client);
        this.failedAt.delete(url);
        return result;
      } catch (err) {
        this.failedAt.set(url, this.now());
        failures.push(`${label}: ${describeLookupFailure(err, this.options.rpcTimeoutMs)}`);
      }
    }
    throw new CodedError('ENS_RPC_FAILED', `every ENS RPC endpoint failed: ${failures.join('; ') || 'none configured'}`);
  }

  /**
   * What each endpoint says at start: its chain id and whether the registry (ens.registry) has
   * code there; for an endpoint that does not answer, why. Never throws.
   */
  async probe(): Promise<Array<{ endpoint: string } & ({ chainId: number; registryCode: boolean } | { error: string })>> {
    return Promise.all(
      this.clients.map(async ({ label, client }) => {
        try {
          const chainId = await client.getChainId();
          const code = await client.getCode({ address: this.options.registry as Address });
          this.health.chainId ??= chainId;
          return { endpoint: label, chainId, registryCode: code !== undefined && code !== '0x' };
        } catch (err) {
          return { endpoint: label, error: describeLookupFailure(err, this.options.rpcTimeoutMs) };
        }
      }),
    );
  }

  /**
   * The resolution path: the Universal Resolver when ens.universalResolver has code at the first
   * endpoint that answers, else the registry walk. Asked once; a failed question is asked again.
   */
  resolutionPath(): Promise<ResolutionPath> {
    return this.choosePath((address) => this.withFailover((c) => c.getCode({ address })));
  }

  /** The path, asking `readCode` for the UR's code unless known; a failed question is asked again next time. */
  private choosePath(readCode: (address: Address) => Promise<Hex | undefined>): Promise<ResolutionPath> {
    const address = this.options.universalResolver;
    if (!address) return Promise.resolve('registry');
    this.pathChoice ??= readCode(address as Address).then(
      (code): ResolutionPath => (code !== undefined && code !== '0x' ? 'universal-resolver' : 'registry'),
      (err: unknown) => {
        this.pathChoice = undefined;
        throw err;
      },
    );
    return this.pathChoice;
  }

  private async lookup(client: PublicClient, name: string, rpc: string): Promise<ContenthashLookup> {
    // Asked of this endpoint, so its failure is told as this endpoint's.
    if ((await this.choosePath((address) => client.getCode({ address }))) === 'universal-resolver') return this.universalLookup(client, name, rpc);
    const registry = this.options.registry as Address;
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join('.');
      const resolver = await client.readContract({ address: registry, abi: registryAbi, functionName: 'resolver', args: [namehash(candidate)] });
      if (resolver === zeroAddress) continue;
      const node = namehash(name);
      const wildcard = await client.readContract({ address: resolver, abi: resolverAbi, functionName: 'supportsInterface', args: [ENSIP10] }).catch(() => false);
      // A parent's resolver answers for its subnames only when it is an ENSIP-10 wildcard resolver.
      if (i > 0 && !wildcard) return { found: false, rpc };
      if (wildcard) {
        const call = encodeFunctionData({ abi: resolverAbi, functionName: 'contenthash', args: [node] });
        const context = { ccipRead: false };
        const result = await lookupContext.run(context, () =>
          client.readContract({ address: resolver, abi: resolverAbi, functionName: 'resolve', args: [toHex(packetToBytes(name)), call] }),
        );
        const contenthash = result === '0x' ? '0x' : decodeFunctionResult({ abi: resolverAbi, functionName: 'contenthash', data: result });
        return { found: true, contenthash: Buffer.from(contenthash.slice(2), 'hex'), resolver, wildcard: i > 0, ccipRead: context.ccipRead, rpc };
      }
      const contenthash = await client.readContract({ address: resolver, abi: resolverAbi, functionName: 'contenthash', args: [node] });
      return { found: true, contenthash: Buffer.from(contenthash.slice(2), 'hex'), resolver, wildcard: false, ccipRead: false, rpc };
    }
    return { found: false, rpc };
  }

  /** ENSIP-23: UniversalResolver.resolve(dnsEncode(name), contenthash(node)) -> (result, resolver), CCIP-Read followed by viem. */
  private async universalLookup(client: PublicClient, name: string, rpc: string): Promise<ContenthashLookup> {
    const call = encodeFunctionData({ abi: resolverAbi, functionName: 'contenthash', args: [namehash(name)] });
    const context = { ccipRead: false };
    let result: Hex;
    let resolver: Address;
    try {
      [result, resolver] = await lookupContext.run(context, () =>
        client.readContract({ address: this.options.universalResolver as Address, abi: universalResolverAbi, functionName: 'resolve', args: [toHex(packetToBytes(name)), call] }),
      );
    } catch (err) {
      const mapped = universalResolverFailure(err, rpc);
      if (mapped instanceof CodedError) throw mapped;
      if (mapped) return mapped;
      throw err;
    }
    const contenthash = result === '0x' ? '0x' : decodeFunctionResult({ abi: resolverAbi, functionName: 'contenthash', data: result });
    return { found: true, contenthash: Buffer.from(contenthash.slice(2), 'hex'), resolver, wildcard: false, ccipRead: context.ccipRead, rpc };
  }
}

/** ENSIP-23 errors: no resolver -> not found; a resolver's or a gateway's failure -> ENS_UR_* (SERVFAIL, the reason in an EDE). */
function universalResolverFailure(err: unknown, rpc: string): ContenthashLookup | CodedError | undefined {
  const reverted = (err as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk?.((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError) || !reverted.data) return undefined;
  const args = reverted.data.args ?? [];
  switch (reverted.data.errorName) {
    case 'ResolverNotFound':
    case 'ResolverNotContract':
      return { found: false, rpc };
    case 'UnsupportedResolverProfile':
      return new CodedError('ENS_UR_UNSUPPORTED', "the name's resolver does not support contenthash records");
    case 'HttpError':
      return new CodedError('ENS_UR_HTTP_ERROR', plainText(`the name's CCIP-Read gateway failed: HTTP ${String(args[0])} ${String(args[1] ?? '')}`, 200));
    case 'ResolverError': {
      const data = (typeof args[0] === 'string' ? args[0] : '0x') as Hex;
      let reason: string;
      try {
        reason = String(decodeErrorResult({ abi: solidityErrorAbi, data }).args[0]);
      } catch {
        reason = data === '0x' ? 'no reason given' : `error data ${data.slice(0, 74)}`;
      }
      return new CodedError('ENS_UR_RESOLVER_ERROR', plainText(`the name's resolver failed: ${reason}`, 200));
    }
    default:
      return undefined;
  }
}

/** Why a lookup failed at one endpoint: the request's cause (refused, timeout, TLS, HTTP status, JSON-RPC error), else viem's own words. */
function describeLookupFailure(err: unknown, timeoutMs: number): string {
  const failure = classifyRequestFailure(err, timeoutMs);
  if (failure.result !== 'bad_response' && failure.result !== 'reverted') return failure.message;
  return plainText((err as { shortMessage?: string }).shortMessage ?? errorMessage(err), 200);
}
