// The ENS chain watch: the ENS names answered recently (bounded, least recently used dropped) and
// an eth_getLogs poll every ens.watchIntervalMs for ContenthashChanged, NewResolver and NewOwner on
// their nodes and their parents'. A matching log, or a reorg (the head going back, a block's hash
// changing), re-reads the names through `refresh`: the value is never taken from a log.
import type { Logger } from 'pino';
import { toEventSelector, toHex, type Hex, type PublicClient } from 'viem';
import { namehash } from 'viem/ens';
import { errorMessage } from '../../errors.js';
import type { EnsClient } from './ens-client.js';
import type { EnsMetrics } from './metrics.js';

const WATCHED_EVENTS: readonly Hex[] = [
  toEventSelector('event ContenthashChanged(bytes32 indexed node, bytes hash)'),
  toEventSelector('event NewResolver(bytes32 indexed node, address resolver)'),
  // node is the parent: a new owner of one of its subnames (the name itself when the parent is watched).
  toEventSelector('event NewOwner(bytes32 indexed node, bytes32 indexed label, address owner)'),
];
/** Nodes per eth_getLogs request (providers bound the size of a topic list). */
const NODES_PER_REQUEST = 100;
/** Names re-read at once (a reorg re-reads them all). */
const REFRESH_CONCURRENCY = 16;
/** Block ranges (ens.watchMaxBlocks each) read to catch up in one poll; a longer gap re-reads every name instead. */
const MAX_CHUNKS_PER_POLL = 10;

export interface ChainWatchOptions {
  /** ens.watchIntervalMs: time between polls. */
  intervalMs: number;
  /** ens.watchMaxNames: ENS names watched at most (least recently answered dropped first). */
  maxNames: number;
  /** ens.watchMaxBlocks: blocks read per eth_getLogs request. */
  maxBlocks: number;
}

interface Head {
  number: bigint;
  hash: Hex;
}

interface RawLog {
  topics: Hex[];
  removed?: boolean;
}

export class EnsChainWatch {
  /** ENS name -> the DNS question names (TXT) it answered; Map order is least recently answered first. */
  private readonly names = new Map<string, Set<string>>();
  private last: Head | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly client: EnsClient,
    private readonly options: ChainWatchOptions,
    /** Re-resolves a DNS question name (TXT) and replaces its cached answer. */
    private readonly refresh: (questionName: string) => Promise<unknown>,
    private readonly metrics?: EnsMetrics,
    private readonly log?: Logger,
  ) {}

  /** `questionName` was answered from ENS name `ensName`: watch it (most recently answered). */
  note(ensName: string, questionName: string): void {
    if (this.stopped) return;
    const held = this.names.get(ensName) ?? new Set<string>();
    this.names.delete(ensName);
    held.add(questionName.toLowerCase());
    this.names.set(ensName, held);
    while (this.names.size > this.options.maxNames) this.names.delete(this.names.keys().next().value!);
    this.metrics?.watchNames(this.names.size);
    this.schedule();
  }

  /** The watched names and their question names (a reload hands them to the next watch). */
  watched(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.names;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.pollOnce().finally(() => {
        this.timer = undefined;
        this.polling = undefined;
        if (this.names.size > 0) this.schedule();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** One poll: the head, a reorg check, the logs since the last poll on the watched nodes. Never throws. */
  async pollOnce(): Promise<void> {
    if (this.polling) return this.polling;
    if (this.names.size === 0) return;
    try {
      await this.poll();
      this.metrics?.watchPoll('ok');
    } catch (err) {
      this.metrics?.watchPoll('error');
      this.metrics?.watchError();
      this.log?.warn({ err: errorMessage(err) }, `ENS chain watch: poll failed (${errorMessage(err)}); tried again in ${this.options.intervalMs} ms`);
    }
  }

  private read<T>(fn: (client: PublicClient) => Promise<T>): Promise<T> {
    return this.client.withFailover(fn);
  }

  private async blockAt(number: bigint | 'latest'): Promise<Head | undefined> {
    const block = await this.read((c) => (number === 'latest' ? c.getBlock({ blockTag: 'latest' }) : c.getBlock({ blockNumber: number })).catch((err: unknown) => {
      if (number !== 'latest' && /not found/i.test(errorMessage(err))) return undefined;
      throw err;
    }));
    return block && block.number !== null && block.hash !== null ? { number: block.number, hash: block.hash } : undefined;
  }

  private async poll(): Promise<void> {
    const head = await this.blockAt('latest');
    if (!head) return;
    const last = this.last;
    if (!last) {
      this.last = head; // names answered so far were read at or before this head
      return;
    }
    const seenAgain = head.number === last.number ? head : head.number > last.number ? await this.blockAt(last.number) : undefined;
    if (!seenAgain || seenAgain.hash !== last.hash) {
      // The chain went back or the block we read last is no longer there: whatever we read may be gone.
      this.metrics?.watchReorg();
      this.log?.info({ lastBlock: Number(last.number), head: Number(head.number) }, 'ENS chain watch: the chain was reorganized; every watched name is read again');
      this.last = head;
      await this.refreshNames([...this.names.keys()]);
      return;
    }
    if (head.number === last.number) return;
    const from = last.number + 1n;
    const span = BigInt(this.options.maxBlocks);
    if (head.number - from + 1n > span * BigInt(MAX_CHUNKS_PER_POLL)) {
      this.log?.info({ from: Number(from), head: Number(head.number) }, 'ENS chain watch: too many blocks since the last poll; every watched name is read again');
      this.last = head;
      await this.refreshNames([...this.names.keys()]);
      return;
    }
    const byNode = this.namesByNode();
    const nodes = [...byNode.keys()];
    const hit = new Set<string>();
    for (let start = from; start <= head.number; start += span) {
      const end = start + span - 1n < head.number ? start + span - 1n : head.number;
      for (let i = 0; i < nodes.length; i += NODES_PER_REQUEST) {
        const logs = await this.read((c) =>
          c.request({ method: 'eth_getLogs', params: [{ fromBlock: toHex(start), toBlock: toHex(end), topics: [[...WATCHED_EVENTS], nodes.slice(i, i + NODES_PER_REQUEST)] }] }) as Promise<RawLog[]>,
        );
        for (const log of logs) {
          const names = byNode.get((log.topics[1] ?? '').toLowerCase() as Hex);
          if (!names) continue;
          this.metrics?.watchLogMatched();
          for (const name of names) hit.add(name);
        }
      }
    }
    this.last = head;
    if (hit.size > 0) {
      this.log?.info({ names: [...hit].slice(0, 20), from: Number(from), to: Number(head.number) }, `ENS chain watch: ${hit.size} name(s) changed on chain; read again`);
      await this.refreshNames([...hit]);
    }
  }

  /** Each watched node (a name's and its parents') -> the watched names under it. */
  private namesByNode(): Map<Hex, Set<string>> {
    const byNode = new Map<Hex, Set<string>>();
    for (const name of this.names.keys()) {
      const labels = name.split('.');
      for (let i = 0; i < labels.length; i++) {
        const node = namehash(labels.slice(i).join('.')).toLowerCase() as Hex;
        const set = byNode.get(node) ?? new Set<string>();
        set.add(name);
        byNode.set(node, set);
      }
    }
    return byNode;
  }

  private async refreshNames(ensNames: readonly string[]): Promise<void> {
    const questions = ensNames.flatMap((name) => [...(this.names.get(name) ?? [])]);
    // At most REFRESH_CONCURRENCY at a time: a reorg re-reads every watched name.
    for (let i = 0; i < questions.length; i += REFRESH_CONCURRENCY) await this.refreshEach(questions.slice(i, i + REFRESH_CONCURRENCY));
  }

  private async refreshEach(questions: readonly string[]): Promise<void> {
    await Promise.all(
      questions.map(async (q) => {
        try {
          const result = (await this.refresh(q)) as { source?: string; ede?: { text?: string } } | undefined;
          // A failed re-read keeps the cached answer (served until its TTL, then stale): counted and logged.
          if (result?.source === 'error') throw new Error(result.ede?.text ?? 'the lookup failed');
          this.metrics?.watchRefresh();
        } catch (err) {
          this.metrics?.watchError();
          this.log?.warn({ name: q, err: errorMessage(err) }, `ENS chain watch: refreshing ${q} failed`);
        }
      }),
    );
  }
}
