// The shapes of a compiled IPIP-383 compact denylist (the `.deny` format): what a parsed list
// answers about a DNSLink name or a content path. No I/O; the parser and the matcher live beside it
// (parse.ts, compiled-denylist.ts).

/** The rule of a list that decides a query: the last rule of the list that matches it. */
export interface DenylistRuleRef {
  /** The list's name (the source's name). */
  list: string;
  /**
   * The rule as written, without its hints: `/ipfs/CID/PATH*`, `/ipns/NAME`, `!/ipfs/...` (an
   * allow rule keeps its `!`). A double-hash rule is `//HASH`: its hash, never the plain name or
   * CID it stands for.
   */
  rule: string;
  /** 1-based line number of the rule in the list's text (the header's lines counted). */
  line: number;
  /** True for a `!` rule: the query is allowed (it wins over the block rules above it). */
  allow: boolean;
}

export interface DenylistHeader {
  /** `version` of the header, as text (only version 1 is accepted). */
  version?: string;
  name?: string;
  /** The header's `hints` map (global hints), values as text. */
  hints: Record<string, string>;
}

export interface CompiledDenylist {
  /** The list's name (the source's name). */
  readonly name: string;
  /** sha256 hex of the list's text (as UTF-8). */
  readonly version: string;
  /** Rules compiled (bad lines and skipped safe CIDs not counted). */
  readonly entries: number;
  readonly header: DenylistHeader;
  /** Lines reported to onBadLine and skipped. */
  readonly badLines: number;
  /**
   * The rule that decides a DNSLink or ENS name, as `/ipns/NAME` would be decided (a name with no
   * dot is read as a subdomain-gateway label: `en-wikipedia--on--ipfs-org`), the last matching one;
   * allow rules included (allow: true). Undefined: no rule of the list matches.
   */
  matchName(name: string): DenylistRuleRef | undefined;
  /**
   * The rule that decides a content path, `/ipfs/CID[/PATH]` or `/ipns/NAME-or-KEY[/PATH]`: rules
   * on the root (CID or name) match every path under it (a gateway would have to fetch or resolve
   * the root first), rules with a path match that path (`*`: every path starting with it), double
   * hashes of the root and of the path (modern and legacy forms) too. Undefined when nothing
   * matches or the path is not a content path.
   */
  matchPath(path: string): DenylistRuleRef | undefined;
}

export interface ParseDenylistOptions {
  /** The list's name, returned in every DenylistRuleRef. */
  name: string;
  /** Called for every line that is not a rule of the format (1-based line number); the line is skipped. */
  onBadLine?: (line: number, message: string) => void;
}
