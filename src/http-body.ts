// Reading the body of an HTTP answer from a server we do not control (a DoH upstream, a CCIP-Read
// gateway) with a bound on its size: a larger body is cancelled as soon as it passes the bound,
// never buffered whole.

/** The body of `res`, at most `max` bytes; cancels the read and throws `tooLarge()` when it is larger. */
export async function readCapped(res: Response, max: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const reader = res.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
