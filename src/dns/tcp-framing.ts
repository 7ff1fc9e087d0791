// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766): each message is preceded by its length as two
// bytes. One framer for both sides: the TCP listener and the upstream TCP client.

/** `message` with its two-byte length prefix. */
export function frameMessage(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 2);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

/** Collects stream chunks and hands out each complete message; a partial one waits for more bytes. */
export class MessageReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Bytes of a message not complete yet (0 between messages). */
  get partialBytes(): number {
    return this.buffered.length;
  }

  /** Adds `chunk` and calls `onMessage` for every message now complete, in order, until it returns false. */
  push(chunk: Buffer, onMessage: (message: Buffer) => boolean | void): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 2) {
      const len = this.buffered.readUInt16BE(0);
      if (this.buffered.length < len + 2) return;
      const message = this.buffered.subarray(2, 2 + len);
      this.buffered = this.buffered.subarray(2 + len);
      if (onMessage(message) === false) return;
    }
  }
}
