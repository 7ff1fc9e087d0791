// The confirm dialog every change goes through: the admin API's dry run first (what it would do:
// before and after, names and entries reached), then a reason and Confirm. A modal <dialog>: focus
// stays inside it while open and Escape closes it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { admin, problem, type Answer } from './api.js';

export interface Change {
  title: string;
  method: 'PUT' | 'POST' | 'DELETE';
  path: string;
  /** The request's body, with `value` when the change asks for one (`input`). */
  body: (value: string) => Record<string, unknown>;
  /** A field the change needs before its dry run (an override's value). */
  input?: { label: string; placeholder?: string };
  /** What the dry run's answer says, for people. */
  summary: (dryRun: Record<string, unknown>) => preact.ComponentChildren;
}

const withDryRun = (path: string) => `${path}${path.includes('?') ? '&' : '?'}dryRun=true`;

export function ChangeDialog({ change, onClose }: { change: Change; onClose: (done: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [dryRun, setDryRun] = useState<Answer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const preview = async (v: string) => {
    setBusy(true);
    setError(null);
    const answer = await admin(change.method, withDryRun(change.path), change.body(v));
    setBusy(false);
    if (answer.status === 200) setDryRun(answer);
    else setError(problem(answer));
  };

  useEffect(() => {
    ref.current?.showModal();
    if (!change.input) void preview('');
  }, []);

  const confirm = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const answer = await admin(change.method, change.path, { ...change.body(value), ...(reason ? { reason } : {}) });
    setBusy(false);
    if (answer.status === 200) {
      ref.current?.close();
      onClose(true);
    } else setError(problem(answer));
  };

  return (
    <dialog ref={ref} aria-labelledby="change-title" onCancel={() => onClose(false)} onClose={() => onClose(false)}>
      <h2 id="change-title">{change.title}</h2>
      {change.input && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void preview(value);
          }}
        >
          <label>
            {change.input.label}
            <input name="value" required value={value} placeholder={change.input.placeholder} onInput={(e) => setValue(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy}>
            Dry run
          </button>
        </form>
      )}
      {dryRun && (
        <section aria-label="Dry run">
          <h3>Dry run: nothing changed yet</h3>
          {change.summary(dryRun.body)}
        </section>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <form onSubmit={confirm}>
        <label>
          Reason
          <input name="reason" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <div class="buttons">
          <button type="submit" disabled={busy || !dryRun}>
            Confirm
          </button>
          <button type="button" onClick={() => ref.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** An override change's dry run: the answers and the override before and after, the entries flushed. */
export function OverrideSummary({ result }: { result: Record<string, unknown> }) {
  const answers = (result.answers ?? {}) as { before?: string | null; after?: string | null };
  const after = result.after as { value?: string } | null;
  const before = result.before as { value?: string } | null;
  return (
    <dl>
      <dt>Name</dt>
      <dd>{String(result.name)}</dd>
      <dt>Answer before</dt>
      <dd>{answers.before ?? 'no DNSLink'}</dd>
      <dt>Answer after</dt>
      <dd>{answers.after ?? 'no DNSLink'}</dd>
      <dt>Override before</dt>
      <dd>{before ? before.value : 'none'}</dd>
      <dt>Override after</dt>
      <dd>{after ? after.value : 'none'}</dd>
      <dt>Cached entries flushed</dt>
      <dd>{String((result.cache as { removed?: number } | undefined)?.removed ?? 0)}</dd>
    </dl>
  );
}
