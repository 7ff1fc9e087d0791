// The UDP sockets every upstream query shares: per upstream a bounded set of sockets, each bound
// to its own random source port and connected to the upstream (datagrams from anywhere else never
// reach it, a closed port fails at once), each matching answers by ID and question. A socket is
// retired after a number of queries and a fresh one on a new random port takes its place.
import { randomInt } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Question } from '../../dns/types.js';
import { encodeQuery, type DecodedResponse } from '../../dns/upstream-codec.js';
import { CodedError } from '../../errors.js';
import { acceptAnswer } from './accept-answer.js';
import type { UpstreamEndpoint } from './upstream-url.js';

export interface UdpSocketPoolOptions {
  /** Sockets (source ports) per upstream at most, not counting retired ones still waiting for answers. */
  socketsPerUpstream: number;
  /** Queries sent on one socket before it is retired and a fresh one takes its place. */
  queriesPerSocket: number;
  /** A socket with nothing pending for this long is closed. */
  idleCloseMs: number;
  /** Queries waiting on one socket at most (each needs an ID of its own there). */
  maxPendingPerSocket: number;
}

export const DEFAULT_UDP_SOCKET_POOL: UdpSocketPoolOptions = {
  socketsPerUpstream: 32,
  queriesPerSocket: 256,
  idleCloseMs: 10_000,
  maxPendingPerSocket: 4_096,
};

interface PendingQuery {
  question: Question;
  settle(result: DecodedResponse | Error): void;
}

/** The system error code (EMFILE, ENOBUFS, ECONNREFUSED...) behind an error, if any. */
export function systemErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 3 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
    e = e.cause;
  }
  return undefined;
}

/** A network failure of `endpoint`, keeping the system error as its cause. */
export function networkError(endpoint: UpstreamEndpoint, err: Error): CodedError {
  return new CodedError('UPSTREAM_NETWORK', `${endpoint.url}: ${err.message}`, { cause: err });
}

/** One socket of the pool: its queries waiting by ID. */
class PooledSocket {
  readonly pending = new Map<number, PendingQuery>();
  sent = 0;
  lastUsed: number;
  retired = false;
  closed = false;
  /** Resolves once connected (undefined), or to the error that stopped it. */
  readonly connected: Promise<Error | undefined>;
  private readonly socket: dgram.Socket;

  constructor(
    private readonly endpoint: UpstreamEndpoint,
    private readonly onDone: (pooled: PooledSocket) => void,
  ) {
    this.lastUsed = Date.now();
    this.socket = dgram.createSocket(net.isIPv6(endpoint.host) ? 'udp6' : 'udp4');
    this.socket.unref(); // pending queries keep the process alive through their timers
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.connected = new Promise((resolve) => {
      // ICMP port unreachable reaches a connected socket as ECONNREFUSED; EMFILE comes from the implicit bind.
      this.socket.on('error', (err) => {
        resolve(err);
        this.fail(err);
      });
      // Bound to port 0: the kernel picks a random ephemeral port. Connected: only the upstream's
      // own address and port reach it.
      this.socket.connect(endpoint.port, endpoint.host, (err?: Error) => {
        resolve(err);
        if (err) this.fail(err);
      });
    });
  }

  /** A free random ID on this socket (the caller checked there is room). */
  freeId(): number {
    for (;;) {
      const id = randomInt(0, 0x10000);
      if (!this.pending.has(id)) return id;
    }
  }

  send(id: number, question: Question, timeoutMs: number): Promise<DecodedResponse> {
    this.sent++;
    this.lastUsed = Date.now();
    const query = encodeQuery(id, question);
    return new Promise<DecodedResponse>((resolve, reject) => {
      const timer = setTimeout(() => settle(new CodedError('UPSTREAM_TIMEOUT', `no answer from ${this.endpoint.url} within ${timeoutMs} ms`)), timeoutMs);
      const settle = (result: DecodedResponse | Error): void => {
        if (this.pending.get(id) !== entry) return; // settled already
        this.pending.delete(id);
        clearTimeout(timer);
        this.lastUsed = Date.now();
        if (result instanceof Error) reject(result);
        else resolve(result);
        this.onDone(this);
      };
      const entry: PendingQuery = { question, settle };
      this.pending.set(id, entry);
      void this.connected.then((err) => {
        if (this.pending.get(id) !== entry) return;
        if (err) return settle(networkError(this.endpoint, err));
        this.socket.send(query, (sendErr) => {
          if (sendErr) settle(networkError(this.endpoint, sendErr)); // ENOBUFS, EAGAIN: this query only
        });
      });
    });
  }

  /** Fails every query waiting here with `err`; the socket stays usable. */
  failPending(err: Error): void {
    for (const waiting of [...this.pending.values()]) waiting.settle(err);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // closed already by an error
    }
  }

  private onMessage(msg: Buffer): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const waiting = this.pending.get(id);
    const response = waiting && acceptAnswer(msg, id, waiting.question);
    if (response) waiting.settle(response); // else spoofed, stray or broken: keep waiting
  }

  /** A socket error (ECONNREFUSED, EMFILE...) fails every query waiting on it; the socket is not used again. */
  private fail(err: Error): void {
    this.retired = true;
    for (const waiting of [...this.pending.values()]) waiting.settle(networkError(this.endpoint, err));
    this.onDone(this);
  }
}

export class UdpSocketPool {
  private readonly slots = new Map<string, Array<PooledSocket | undefined>>();
  /** Sockets taken out of their slot, closed once their last query is settled. */
  private readonly retiring = new Set<PooledSocket>();
  private sweepTimer: NodeJS.Timeout | undefined;
  readonly options: UdpSocketPoolOptions;

  constructor(options: Partial<UdpSocketPoolOptions> = {}) {
    this.options = { ...DEFAULT_UDP_SOCKET_POOL, ...options };
  }

  /** Sockets open now, in slots and retiring. */
  get openSockets(): number {
    let open = this.retiring.size;
    for (const slots of this.slots.values()) for (const s of slots) if (s) open++;
    return open;
  }

  /** Queries waiting for an answer now. */
  get pendingQueries(): number {
    let pending = 0;
    for (const s of this.retiring) pending += s.pending.size;
    for (const slots of this.slots.values()) for (const s of slots) pending += s?.pending.size ?? 0;
    return pending;
  }

  /** One question to `endpoint` over one of its pooled sockets. */
  query(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number): Promise<DecodedResponse> {
    const slots = this.slotsOf(endpoint);
    const pooled = this.pick(endpoint, slots);
    if (!pooled) {
      return Promise.reject(new CodedError('UPSTREAM_BUSY', `${endpoint.url}: every pooled socket has ${this.options.maxPendingPerSocket} queries waiting`));
    }
    const answer = pooled.send(pooled.freeId(), question, timeoutMs);
    // Enough queries on this port: a fresh socket on a new random port takes its slot. Retired
    // sockets waiting for answers are bounded too: past as many as the slots, a socket stays.
    if (pooled.sent >= this.options.queriesPerSocket && this.retiring.size < this.options.socketsPerUpstream * this.slots.size) this.retire(pooled, slots);
    return answer;
  }

  /** Fails every query waiting on any socket with `err` at once (the shutdown's SHUTTING_DOWN). */
  failPending(err: Error): void {
    for (const s of [...this.retiring]) s.failPending(err);
    for (const slots of this.slots.values()) for (const s of slots) s?.failPending(err);
  }

  /** Closes every socket; queries still waiting fail with their timeout's error or a network error. */
  close(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const slots of this.slots.values()) for (const s of slots) s?.close();
    for (const s of this.retiring) s.close();
    this.slots.clear();
    this.retiring.clear();
  }

  private slotsOf(endpoint: UpstreamEndpoint): Array<PooledSocket | undefined> {
    const key = `${endpoint.host}|${endpoint.port}`;
    let slots = this.slots.get(key);
    if (!slots) {
      slots = new Array<PooledSocket | undefined>(this.options.socketsPerUpstream).fill(undefined);
      this.slots.set(key, slots);
    }
    return slots;
  }

  /** A random slot's socket (opened if the slot is empty); the next slots when it is full. */
  private pick(endpoint: UpstreamEndpoint, slots: Array<PooledSocket | undefined>): PooledSocket | undefined {
    const start = randomInt(0, slots.length);
    for (let k = 0; k < slots.length; k++) {
      const i = (start + k) % slots.length;
      let pooled = slots[i];
      if (!pooled || pooled.retired) {
        if (pooled) this.retire(pooled, slots);
        pooled = new PooledSocket(endpoint, (s) => this.settled(s, slots));
        slots[i] = pooled;
        this.startSweeping();
      }
      if (pooled.pending.size < this.options.maxPendingPerSocket) return pooled;
    }
    return undefined;
  }

  private retire(pooled: PooledSocket, slots: Array<PooledSocket | undefined>): void {
    const i = slots.indexOf(pooled);
    if (i >= 0) slots[i] = undefined;
    pooled.retired = true;
    if (pooled.pending.size === 0) pooled.close();
    else this.retiring.add(pooled);
  }

  /** After each settled query: a retired socket with nothing left waiting is closed. */
  private settled(pooled: PooledSocket, slots: Array<PooledSocket | undefined>): void {
    if (!pooled.retired || pooled.pending.size > 0) return;
    const i = slots.indexOf(pooled);
    if (i >= 0) slots[i] = undefined;
    this.retiring.delete(pooled);
    pooled.close();
  }

  private startSweeping(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweepIdle(), Math.max(1, Math.ceil(this.options.idleCloseMs / 2)));
    this.sweepTimer.unref();
  }

  /** Closes sockets with nothing waiting, unused for idleCloseMs; stops sweeping when none is left. */
  private sweepIdle(): void {
    const now = Date.now();
    for (const slots of this.slots.values()) {
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i];
        if (s && s.pending.size === 0 && now - s.lastUsed >= this.options.idleCloseMs) {
          s.close();
          slots[i] = undefined;
        }
      }
    }
    if (this.openSockets === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}
