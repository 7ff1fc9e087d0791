// What happens to a DNS query before any resolution: the listeners' client gate decides it
// (listeners/client-gate.ts: dns.allow, dns.rateLimit) and the wire handler answers accordingly.

export const Admission = {
  /** Resolve and answer it. */
  ANSWER: 0,
  /** Answer REFUSED with EDE 18 (the client is not in dns.allow). */
  REFUSE: 1,
  /** Send nothing (over the rate limit). */
  DROP: 2,
  /** Answer TC=1 without records (over the rate limit, this one slips): the client retries over TCP. */
  SLIP: 3,
} as const;
export type Admission = (typeof Admission)[keyof typeof Admission];
