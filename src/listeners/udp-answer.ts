// What both UDP transports (node:dgram in udp-listener.ts, recvmmsg/sendmmsg in udp-batched.ts) do
// with one datagram: the client gate (dns.allow, dns.rateLimit), then the wire handler, never
// throwing; and how an answer that comes late (a cache miss) is tracked until the kernel took it.
import type { Logger } from 'pino';
import { Admission } from '../core/admission.js';
import type { ResolverCore } from '../core/resolver-core.js';
import type { WireAnswer } from '../core/wire-handler.js';
import type { InFlight } from './running-listener.js';

/**
 * The answer to one datagram from `address` (an IP literal): the wire handler's when the client
 * gate admits it, REFUSED/slip/nothing when it does not. Synchronous on cache hits; null: no answer.
 */
export function answerDatagram(core: ResolverCore, packet: Buffer, address: string): WireAnswer | Promise<WireAnswer> {
  try {
    const admission = core.clientGate.udp(address);
    return admission === Admission.ANSWER ? core.wireHandler.handle(packet, 'udp', true, address) : core.wireHandler.answerStopped(packet, 'udp', admission, address);
  } catch (err) {
    core.log.error({ err }, 'UDP query handling failed');
    return null;
  }
}

/**
 * Waits for a late answer, in flight until `send` reports the kernel took it (`send` gets the
 * answer and a callback to call then; it is not called for null). A failure is logged, once.
 */
export function replyWhenResolved(late: Promise<WireAnswer>, inFlight: InFlight, log: Logger, send: (out: Buffer, sent: () => void) => void): void {
  inFlight.begin();
  const end = (): void => inFlight.end();
  late.then(
    (out) => {
      if (out === null) return end();
      try {
        send(out, end);
      } catch {
        end(); // the socket closed under it: nobody is left to send it to
      }
    },
    (err: unknown) => {
      end();
      log.error({ err }, 'UDP reply failed');
    },
  );
}

/** A warning when the kernel granted less receive buffer than dns.recvBufferSize asked (it caps it at net.core.rmem_max). */
export function warnIfRecvBufferCapped(granted: number, asked: number, log: Logger): void {
  if (granted >= asked) return;
  log.warn(
    { asked, granted, setting: 'dns.recvBufferSize' },
    'UDP receive buffer smaller than configured: the kernel caps it (Linux: raise net.core.rmem_max, e.g. sysctl -w net.core.rmem_max=8388608)',
  );
}
