// The confirm dialog every change goes through: a reason (the admin API asks one even of a dry run),
// the dry run (what it would do: before and after, names and entries reached), then Confirm. A modal <dialog>: focus
// stays inside it while open and Escape closes it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { admin, problem, type Answer } from './api.js';

export interface Change {
  title: string;
  method: 'PUT' | 'POST' | 'DELETE';
  /** The route; from the fields typed when it depends on them (a new override's name). */
  path: string | ((values: Record<string, string>) => string);
  /** The request's body, from the fields typed (`inputs`). */
  body: (values: Record<string, string>) => Record<string, unknown>;
  /** Fields the change needs before its dry run (an override's name, its value). */
  inputs?: Array<{ key: string; label: string; placeholder?: string; initial?: string }>;
  /** What the dry run's answer says, for people. */
  summary: (dryRun: Record<string, unknown>) => preact.ComponentChildren;
}

const withDryRun = (path: string) => `${path}${path.includes('?') ? '&' : '?'}dryRun=true`;

export function ChangeDialog({ change, onClose }: { change: Change; onClose: (done: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [values, setValues] = useState<Record<string, string>>(Object.fromEntries((change.inputs ?? []).map((i) => [i.key, i.initial ?? ''])));
  const path = typeof change.path === 'string' ? change.path : change.path(values);
  const missing = (change.inputs ?? []).some((i) => !values[i.key]?.trim());
  const [reason, setReason] = useState('');
  const [dryRun, setDryRun] = useState<Answer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const preview = async () => {
    setBusy(true);
    setError(null);
    const answer = await admin(change.method, withDryRun(path), { ...change.body(values), reason });
    setBusy(false);
    if (answer.status === 200) setDryRun(answer);
    else setError(problem(answer));
  };

  useEffect(() => {
    ref.current?.showModal();
  }, []);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    const answer = await admin(change.method, path, { ...change.body(values), reason });
    setBusy(false);
    if (answer.status === 200) {
      onClose(true);
      ref.current?.close();
    } else setError(problem(answer));
  };

  /** Tab and Shift+Tab go round the dialog's controls, never out of it to the browser's own. */
  const keepFocus = (event: KeyboardEvent) => {
    if (event.key !== 'Tab' || !ref.current) return;
    const controls = [...ref.current.querySelectorAll<HTMLElement>('input, button, select, textarea, a[href]')].filter((el) => !(el as HTMLButtonElement).disabled);
    const first = controls[0];
    const last = controls.at(-1);
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    void (dryRun ? confirm() : preview());
  };

  return (
    <dialog ref={ref} aria-labelledby="change-title" onKeyDown={keepFocus} onCancel={() => onClose(false)} onClose={() => onClose(false)}>
      <h2 id="change-title">{change.title}</h2>
      <form onSubmit={submit}>
        {(change.inputs ?? []).map((input) => (
          <label key={input.key}>
            {input.label}
            <input
              name={input.key}
              required
              value={values[input.key] ?? ''}
              placeholder={input.placeholder}
              onInput={(e) => {
                setValues({ ...values, [input.key]: e.currentTarget.value });
                setDryRun(null);
              }}
            />
          </label>
        ))}
        <label>
          Reason
          <input name="reason" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
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
        <div class="buttons">
          <button type="button" disabled={busy || !reason.trim() || missing} onClick={() => void preview()}>
            Dry run
          </button>
          <button type="button" disabled={busy || !dryRun} onClick={() => void confirm()}>
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
