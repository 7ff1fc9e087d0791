// The help of `dnslinkd deny` (deny-commands.ts), in a module of its own so the admin commands'
// help table can show it without importing the commands.
import { ADMIN_COMMON_HELP } from './admin-client.js';
import type { CommandHelp } from './command-line.js';

const SUBCOMMANDS = {
  add: {
    usage: '  dnslinkd deny add RULE --reason R [--expires T] [--dry-run] [--force]',
    help: `Adds RULE to the operator list, kept in the control store: every instance and worker blocks by it
at once. RULE is one line of the IPIP-383 format: /ipns/NAME, /ipfs/CID[/PATH][*], //HASH, or ! before
one (an allow rule, which lifts a block of a later list). --expires T (an ISO time or a duration such
as 2h) ends it. --dry-run names the cached names it would block; a rule that would block more than
denylist.maxNewlyBlockedPercent of the names served, or a name of wide reach, needs --force.`,
  },
  rm: { usage: '  dnslinkd deny rm ID --reason R [--dry-run]', help: 'Removes the operator rule ID (deny ls shows the ids), fleet-wide; audited.' },
  ls: { usage: '  dnslinkd deny ls', help: "Lists the operator's rules: id, rule, reason, who, when, expiry." },
  status: { usage: '  dnslinkd deny status', help: 'Every list: source, kind, version in force, entries, last fetch and its result, a version the guard holds.' },
  check: {
    usage: '  dnslinkd deny check NAME | /ipfs/CID[/PATH] | /ipns/NAME[/PATH]',
    help: 'Which list and rule match the subject, which one decides, and why an allow rule wins.',
  },
  accept: { usage: '  dnslinkd deny accept LIST', help: 'Applies the version of LIST the guard holds (audited).' },
};

export const DENY_HELP: CommandHelp = {
  summary: 'block names and content fleet-wide; see and accept denylist versions',
  usage: Object.values(SUBCOMMANDS).map((c) => c.usage).join('\n'),
  help: `${Object.entries(SUBCOMMANDS).map(([name, c]) => `deny ${name}: ${c.help}`).join('\n')}\n\ndocs/denylists.md says more.\n\n${ADMIN_COMMON_HELP}`,
  subcommands: Object.fromEntries(Object.entries(SUBCOMMANDS).map(([name, c]) => [name, { usage: c.usage, help: `${c.help}\n\n${ADMIN_COMMON_HELP}` }])),
};
