// What the control plane asks of the denylist stage of each process that answers queries: the
// operator's rules to put in force, a dry run's weighing, the lists' status, a check, accepting a
// held version. One call shape for the local process and for cluster workers over IPC.
import type { ResolverCore } from '../core/resolver-core.js';
import type { SubjectExplanation } from '../stages/denylist/verdict.js';
import type { ListStatus, Weighing } from '../stages/denylist/denylist-manager.js';
import { compileOperatorList, type OperatorRuleRecord } from '../stages/denylist/operator-list.js';
import { OPERATOR_LIST } from '../stages/denylist/config.js';

export type DenylistCall =
  /** These operator rules are the ones in force (expired ones are left out at `now`). */
  | { op: 'rules'; records: OperatorRuleRecord[]; now: number }
  /** What these operator rules would newly block among the names served here (a dry run). */
  | { op: 'weigh'; records: OperatorRuleRecord[]; now: number }
  | { op: 'status' }
  | { op: 'check'; subject: string }
  | { op: 'accept'; list: string; token: string };

export interface DenylistResults {
  rules: null;
  weigh: Weighing;
  status: { lists: ListStatus[]; maxNewlyBlockedPercent: number; answer: string };
  check: SubjectExplanation[];
  accept: { list: string; version: string; entries: number; newlyBlocked: number } | null;
}

/** Runs one call on this process's denylist stage. */
export async function runDenylistCall(core: ResolverCore, call: DenylistCall): Promise<unknown> {
  const manager = core.denylist;
  switch (call.op) {
    case 'rules':
      await manager.setOperatorList(compileOperatorList(call.records, call.now));
      return null;
    case 'weigh':
      return manager.weigh(manager.listsWith(OPERATOR_LIST, compileOperatorList(call.records, call.now)));
    case 'status':
      return manager.status();
    case 'check':
      return manager.check(call.subject);
    case 'accept':
      // A process that holds nothing of the list answers null (with --workers, another may hold it).
      return manager.held(call.list) ? manager.accept(call.list, call.token) : (manager.requireSource(call.list), null);
  }
}
