// A Server-Sent Events client for tests (over fetch, a real HTTP client): connects to a URL,
// parses each event (id, event, data) as it arrives with the time it arrived, and closes.
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  /** Date.now() when the event's blank line arrived. */
  at: number;
}

export interface SseClient {
  status: number;
  events: SseEvent[];
  /** Change events (default event type) as parsed JSON. */
  changes<T = Record<string, unknown>>(): T[];
  /** Resolves once `test` holds over the events (polled), or rejects after timeoutMs. */
  until(test: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  let ended: Promise<void> = Promise.resolve();
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    ended = (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const ev: SseEvent = { event: 'message', data: '', at: Date.now() };
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':') || line === '') continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id') ev.id = val;
              else if (field === 'event') ev.event = val;
              else if (field === 'data') data.push(val);
            }
            if (data.length === 0) continue;
            ev.data = data.join('\n');
            events.push(ev);
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  } else await res.arrayBuffer().catch(() => undefined);
  return {
    status: res.status,
    events,
    changes: <T>() => events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data) as T),
    until: async (test, timeoutMs = 5000) => {
      const started = Date.now();
      while (!test(events)) {
        if (Date.now() - started > timeoutMs) throw new Error(`SSE: condition not met within ${timeoutMs} ms; events: ${JSON.stringify(events.map((e) => e.data)).slice(0, 2000)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    ended,
    close: () => abort.abort(),
  };
}
