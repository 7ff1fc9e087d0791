// CID handling for DNSLink values: parses a CID in any multibase (or a bare CIDv0 / base58
// peer ID), gives its CIDv1 base32 form, and splits `/ipfs/<cid>/<path>` into its parts.
// Built on multiformats; no I/O.
import { bases } from 'multiformats/basics';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import type { MultibaseDecoder } from 'multiformats/bases/interface';

/** Multicodec of an IPNS public key CID (`/ipns/k51...`). */
const LIBP2P_KEY_CODEC = 0x72;

/**
 * Longest CID text we decode. boxo accepts digests of 128 bytes at most, so a CID is under 150
 * bytes: about 1,200 characters in base2, its longest multibase. Base58 and base36 decoding take
 * time quadratic in the length (a 60,000-character TXT value cost seconds), so longer text is
 * refused before it is decoded.
 */
const MAX_CID_TEXT_LENGTH = 2048;

export type CidErrorCode = 'INVALID_CID' | 'INVALID_PATH';

export class CidError extends Error {
  readonly code: CidErrorCode;
  constructor(code: CidErrorCode, message: string) {
    super(message);
    this.name = 'CidError';
    this.code = code;
  }
}

export interface ParsedCid {
  cid: CID;
  /** The text as given. */
  text: string;
  /** CIDv1, base32 (`b...`). CIDv0 is upgraded with its dag-pb codec. */
  cidV1: string;
}

export interface IpfsPath {
  /** The CID text as written in the path. */
  cid: string;
  cidV1: string;
  /** Everything after the CID, starting with `/`, or '' when there is none. Not decoded. */
  path: string;
}

function buildMultibaseDecoder(): MultibaseDecoder<string> {
  const codecsByPrefix = new Map<string, MultibaseDecoder<string>>();
  for (const codec of Object.values(bases)) {
    if (codec.name !== 'identity') {
      codecsByPrefix.set(codec.prefix, codec);
    }
  }
  return {
    decode(text: string): Uint8Array<ArrayBuffer> {
      const firstCodePoint = text.codePointAt(0);
      const prefix = firstCodePoint === undefined ? '' : String.fromCodePoint(firstCodePoint);
      const codec = codecsByPrefix.get(prefix);
      if (codec === undefined) {
        throw new Error(`unknown multibase prefix "${prefix}"`);
      }
      return codec.decode(text);
    },
  };
}

const anyMultibase = buildMultibaseDecoder();

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Throws CidError(INVALID_CID) when `text` is not a CID. */
export function parseCid(text: string): ParsedCid {
  if (text === '') {
    throw new CidError('INVALID_CID', 'empty CID');
  }
  if (text.length > MAX_CID_TEXT_LENGTH) {
    throw new CidError('INVALID_CID', `invalid CID "${text.slice(0, 32)}...": ${text.length} characters, longer than any CID (${MAX_CID_TEXT_LENGTH} at most)`);
  }
  try {
    const cid = CID.parse(text, anyMultibase);
    return { cid, text, cidV1: cid.toV1().toString() };
  } catch (error) {
    throw new CidError('INVALID_CID', `invalid CID "${text}": ${describe(error)}`);
  }
}

export function tryParseCid(text: string): ParsedCid | undefined {
  try {
    return parseCid(text);
  } catch {
    return undefined;
  }
}

/**
 * An IPNS name that is a key rather than a domain: a CID (`k51...`, `bafzaa...`) or a bare
 * base58btc multihash peer ID (`12D3KooW...`, `Qm...`). Returns it as a libp2p-key CIDv1 when
 * it is a bare multihash, otherwise the CID as parsed.
 */
export function parseIpnsKey(text: string): ParsedCid | undefined {
  const asCid = tryParseCid(text);
  if (asCid !== undefined) {
    return asCid;
  }
  if (text.length > MAX_CID_TEXT_LENGTH || !/^[1-9A-HJ-NP-Za-km-z]+$/.test(text)) {
    return undefined;
  }
  try {
    const multihash = Digest.decode(bases.base58btc.decode(`z${text}`));
    const cid = CID.createV1(LIBP2P_KEY_CODEC, multihash);
    return { cid, text, cidV1: cid.toString() };
  } catch {
    return undefined;
  }
}

/** Splits `/ipfs/<cid>[/<path>]`. Throws CidError(INVALID_PATH | INVALID_CID). */
export function parseIpfsPath(value: string): IpfsPath {
  const prefix = '/ipfs/';
  if (!value.startsWith(prefix)) {
    throw new CidError('INVALID_PATH', `not an /ipfs/ path: "${value}"`);
  }
  const rest = value.slice(prefix.length);
  const slash = rest.indexOf('/');
  const cidText = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  const parsed = parseCid(cidText);
  return { cid: cidText, cidV1: parsed.cidV1, path };
}
