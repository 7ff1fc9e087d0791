// What starting any listener gives back: the address it is bound to (the real port when 0 was
// asked) and how to close it.

export interface RunningListener {
  address: { host: string; port: number };
  close(): Promise<void>;
}
