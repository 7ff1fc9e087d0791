// The usage lines of `dnslinkd deny` (deny-commands.ts), in a module of their own so the admin
// commands' usage can show them without importing the commands.
export const DENY_USAGE = `  dnslinkd deny add RULE --reason R [--expires T] [--dry-run] [--force]
  dnslinkd deny rm ID --reason R [--dry-run]
  dnslinkd deny ls
  dnslinkd deny status
  dnslinkd deny check NAME | /ipfs/CID[/PATH] | /ipns/NAME[/PATH]
  dnslinkd deny accept LIST`;
