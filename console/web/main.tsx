// The operator console (docs/console.md): sign-in with an admin token, then pages over the admin API
// (hash routes): Overview, Look up, Overrides, Denylists, Flush, Audit. Every change goes through
// ChangeDialog (dry run, reason, confirm); a read token sees everything and its change buttons are off.
import './app.css';
import { render, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { admin, problem, session, withQuery, type Answer } from './api.js';
import { ChangeDialog, OverrideSummary, type Change } from './change-dialog.js';
import { LiveCharts } from './charts.js';

/** A table with its caption and column headers (the accessible names), one row per item. */
function DataTable({ caption, columns, rows }: { caption: ComponentChildren; columns: string[]; rows: Array<{ key: string | number; cells: ComponentChildren[] }> }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            {r.cells.map((c, i) => (
              <td key={i}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Who {
  label: string;
  scope: 'read' | 'write';
}

const PAGES = [
  { hash: '#/overview', name: 'Overview' },
  { hash: '#/lookup', name: 'Look up' },
  { hash: '#/overrides', name: 'Overrides' },
  { hash: '#/denylists', name: 'Denylists' },
  { hash: '#/flush', name: 'Flush' },
  { hash: '#/audit', name: 'Audit' },
] as const;

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/overview');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/overview');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** Loads `path` when `key` changes; `reload` asks again. */
function useAdmin<T = Record<string, unknown>>(path: string | null): { answer: Answer<T> | null; reload: () => void } {
  const [answer, setAnswer] = useState<Answer<T> | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    void admin<T>('GET', path).then((a) => live && setAnswer(a));
    return () => {
      live = false;
    };
  }, [path, n]);
  return { answer, reload: () => setN((x) => x + 1) };
}

function Problem({ answer }: { answer: Answer | null }) {
  if (!answer || answer.status === 200) return null;
  return (
    <p role="alert" class="error">
      {problem(answer)}
    </p>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (who: Who) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const answer = await admin<Who>('GET', '/admin/v1/whoami', undefined, token);
    if (answer.status === 200) {
      session.set(token);
      onSignedIn(answer.body);
    } else setError(answer.status === 401 ? 'That token was refused: check it and try again.' : problem(answer));
  };
  return (
    <main class="signin">
      <h1>dnslinkd console</h1>
      <form onSubmit={submit}>
        <label>
          Admin token
          <input type="password" name="token" autocomplete="off" required value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        </label>
        <button type="submit">Sign in</button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p class="hint">A token from admin.tokens, DNSLINKD_ADMIN_TOKEN or the data directory's admin-token file. It stays in this tab only.</p>
    </main>
  );
}

function Overview() {
  const { answer } = useAdmin<Record<string, unknown>>('/admin/v1/status');
  if (!answer) return <p>Loading…</p>;
  if (answer.status !== 200) return <Problem answer={answer} />;
  return (
    <>
      <Status status={answer.body} />
      <LiveCharts />
    </>
  );
}

interface StatusReport {
  instance: { version: string; pid: number; startedAt: string; uptimeSeconds: number; workers: number };
  degraded: boolean;
  degradedReason?: string;
  overrides: number;
  cache: { entries: number; hits: number; misses: number; hitRatio: number | null; staleServed: number };
  controlStore: { kind: string; location: string; version: number; syncLagSeconds?: number };
  fleet?: { instances: Array<{ id: string; host: string; admin: string; version: string; live: boolean; lastSeen: string; overridesVersion: number; self: boolean }>; live: number } | { error: string };
  processes: Array<{ pid: number; worker?: number; version: string; uptimeSeconds: number; cache: { entries: number; hitRatio: number | null } }>;
}

function Status({ status }: { status: Record<string, unknown> }) {
  const s = status as unknown as StatusReport;
  const fleet = s.fleet && 'instances' in s.fleet ? s.fleet : undefined;
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      <dl>
        <dt>Instance</dt>
        <dd data-testid="instance">
          up, dnslinkd {s.instance.version}, pid {s.instance.pid}, {s.instance.workers} serving process{s.instance.workers === 1 ? '' : 'es'}, up {s.instance.uptimeSeconds} s
        </dd>
        <dt>Degraded</dt>
        <dd>{s.degraded ? `yes: ${s.degradedReason ?? 'overrides held after a store reset'}` : 'no'}</dd>
        <dt>Control store</dt>
        <dd>
          {s.controlStore.kind} ({s.controlStore.location}), version {s.controlStore.version}
          {s.controlStore.syncLagSeconds !== undefined ? `, sync lag ${s.controlStore.syncLagSeconds} s` : ''}
        </dd>
        <dt>Overrides in force</dt>
        <dd>{s.overrides}</dd>
        <dt>Cache</dt>
        <dd>
          {s.cache.entries} entries, hit ratio {s.cache.hitRatio ?? '–'}, {s.cache.staleServed} stale answers served
        </dd>
      </dl>
      {s.fleet && 'error' in s.fleet && (
        <p role="alert" class="error">
          The fleet's instances could not be read: {s.fleet.error}
        </p>
      )}
      {fleet && (
        <DataTable
          caption={<>Fleet: {fleet.live} instances up</>}
          columns={['Instance', 'Admin', 'Version', 'Up', 'Last seen', 'Overrides version']}
          rows={fleet.instances.map((i) => ({
            key: i.id,
            cells: [
              <>{i.host}{i.self ? ' (this one)' : ''}</>,
              i.admin,
              i.version,
              i.live ? 'yes' : 'no',
              i.lastSeen,
              i.overridesVersion,
            ],
          }))}
        />
      )}
      <DataTable
        caption={'Serving processes'}
        columns={['Process', 'Version', 'Uptime', 'Cache entries', 'Hit ratio']}
        rows={s.processes.map((p) => ({
          key: p.pid,
          cells: [
            <>pid {p.pid}{p.worker !== undefined ? ` (worker ${p.worker})` : ''}</>,
            p.version,
            <>{p.uptimeSeconds} s</>,
            p.cache.entries,
            p.cache.hitRatio ?? '–',
          ],
        }))}
      />
    </section>
  );
}

interface Lookup {
  name: string;
  answer: Answer<{ status: number; answer: Record<string, unknown> }>;
  cached: Answer<{ entries: Array<Record<string, unknown>>; override: Record<string, unknown> | null }>;
}

function LookUp({ readOnly, ask }: { readOnly: boolean; ask: (change: Change, after: () => void) => void }) {
  const [name, setName] = useState('');
  const [result, setResult] = useState<Lookup | null>(null);
  const look = async (n: string) => {
    // The look-up first: what it brought into the cache is then shown as held.
    const answer = await admin<Lookup['answer']['body']>('GET', `/admin/v1/lookup/${encodeURIComponent(n)}`);
    const cached = await admin<Lookup['cached']['body']>('GET', `/admin/v1/cache/${encodeURIComponent(n)}`);
    setResult({ name: n, answer, cached });
  };
  const submit = (event: Event) => {
    event.preventDefault();
    void look(name.trim());
  };
  const again = () => result && void look(result.name);
  const target = result?.name ?? '';
  const path = `/admin/v1/overrides/${encodeURIComponent(target)}`;
  const override = result?.cached.status === 200 ? result.cached.body.override : null;
  const gw = result?.answer.status === 200 ? result.answer.body : null;
  const ans = gw?.answer ?? {};
  return (
    <section aria-labelledby="lookup-title">
      <h2 id="lookup-title">Look up a name</h2>
      <form onSubmit={submit} class="inline">
        <label>
          Name
          <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="docs.example.org" />
        </label>
        <button type="submit">Look up</button>
      </form>
      {result && (
        <>
          <Problem answer={result.answer as Answer} />
          {gw && (
            <section aria-labelledby="gateway-title">
              <h3 id="gateway-title">The answer a gateway gets (HTTP {gw.status})</h3>
              <dl>
                {gw.status === 200 ? (
                  <>
                    <dt>Value</dt>
                    <dd data-testid="value">{String(ans.value)}</dd>
                    {ans.cid !== undefined && (
                      <>
                        <dt>CID</dt>
                        <dd>{String(ans.cid)}</dd>
                      </>
                    )}
                    <dt>Path</dt>
                    <dd>{String(ans.path ?? '')}</dd>
                    <dt>TTL</dt>
                    <dd>{String(ans.ttl)} s</dd>
                    <dt>Source</dt>
                    <dd data-testid="source">{String(ans.source)}</dd>
                    <dt>Stale</dt>
                    <dd>{ans.stale ? 'yes' : 'no'}</dd>
                    {ans.reason !== undefined && (
                      <>
                        <dt>Override reason</dt>
                        <dd>{String(ans.reason)}</dd>
                      </>
                    )}
                  </>
                ) : (
                  <>
                    <dt>Error</dt>
                    <dd data-testid="value">
                      {String(ans.code)}: {String(ans.message)}
                    </dd>
                  </>
                )}
              </dl>
              <DataTable
                caption={'Lookups'}
                columns={['Name', 'Rcode', 'Source', 'Upstream', 'EDE']}
                rows={((ans.lookups ?? []) as Array<Record<string, unknown>>).map((l, i) => ({
                  key: i,
                  cells: [
                    String(l.name ?? l.fqdn ?? ''),
                    String(l.rcode ?? ''),
                    String(l.source ?? ''),
                    String(l.upstream ?? ''),
                    <>{l.ede ? `${(l.ede as { code: number }).code} ${(l.ede as { text?: string }).text ?? ''}` : ''}</>,
                  ],
                }))}
              />
            </section>
          )}
          <Problem answer={result.cached as Answer} />
          {result.cached.status === 200 && (
            <section aria-labelledby="held-title">
              <h3 id="held-title">What this instance holds</h3>
              <p data-testid="override">{override ? `Override in force: ${String(override.value)} (${override.pinned ? 'pinned' : 'set'} by ${String(override.by)}: ${String(override.reason)})` : 'No override in force.'}</p>
              <DataTable
                caption={'Cached answers'}
                columns={['Name', 'Type', 'State', 'TTL left', 'Source', 'Upstream']}
                rows={result.cached.body.entries.map((e, i) => ({
                  key: i,
                  cells: [
                    String(e.name),
                    String(e.type),
                    <>{e.stale ? `stale since ${String(e.staleSince)}` : 'fresh'}</>,
                    String(e.ttlLeft),
                    String(e.source),
                    String(e.upstream ?? ''),
                  ],
                }))}
              />
            </section>
          )}
          <div class="buttons" role="group" aria-label="Actions">
            <button type="button" disabled={readOnly} onClick={() => ask({ title: `Pin ${target}`, method: 'PUT', path, body: () => ({ pin: true }), summary: (r) => <OverrideSummary result={r} /> }, again)}>
              Pin
            </button>
            <button
              type="button"
              disabled={readOnly}
              onClick={() => ask({ title: `Override ${target}`, method: 'PUT', path, inputs: [{ key: 'value', label: 'Value', placeholder: '/ipfs/<cid>' }], body: ({ value }) => ({ value }), summary: (r) => <OverrideSummary result={r} /> }, again)}
            >
              Override
            </button>
            <button type="button" disabled={readOnly || !override} onClick={() => ask({ title: `Remove the override of ${target}`, method: 'DELETE', path, body: () => ({}), summary: (r) => <OverrideSummary result={r} /> }, again)}>
              Remove override
            </button>
            <button type="button" disabled={readOnly} onClick={() => ask(flushChange({ name: target }), again)}>
              Flush
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function flushChange(target: { name?: string; suffix?: string; all?: true }, negativeOnly = false): Change {
  const what = target.all ? 'the whole cache' : target.name ? `the cache of ${target.name}` : `the cache under ${target.suffix}`;
  return {
    title: `Flush ${what}${negativeOnly ? ' (negative answers only)' : ''}`,
    method: 'POST',
    path: '/admin/v1/cache/flush',
    body: () => ({ ...target, ...(negativeOnly ? { negativeOnly: true } : {}) }),
    summary: (r) => (
      <dl>
        <dt>Cached entries removed</dt>
        <dd data-testid="reach">{String(r.removed)}</dd>
      </dl>
    ),
  };
}

function Overrides({ readOnly, ask }: { readOnly: boolean; ask: (change: Change, after: () => void) => void }) {
  const { answer, reload } = useAdmin<{ overrides: Array<Record<string, unknown>> }>('/admin/v1/overrides');
  const [search, setSearch] = useState('');
  if (!answer) return <p>Loading…</p>;
  if (answer.status !== 200) return <Problem answer={answer as Answer} />;
  const rows = answer.body.overrides.filter((o) => String(o.name).includes(search.trim().toLowerCase()));
  return (
    <section aria-labelledby="overrides-title">
      <h2 id="overrides-title">Overrides</h2>
      <div class="inline">
        <label>
          Search
          <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          disabled={readOnly}
          onClick={() =>
            ask(
              {
                title: 'Add an override',
                method: 'PUT',
                path: ({ name }) => `/admin/v1/overrides/${encodeURIComponent((name ?? '').trim())}`,
                inputs: [
                  { key: 'name', label: 'Name', placeholder: 'docs.example.org' },
                  { key: 'value', label: 'Value', placeholder: '/ipfs/<cid>' },
                ],
                body: ({ value }) => ({ value }),
                summary: (r) => <OverrideSummary result={r} />,
              },
              reload,
            )
          }
        >
          Add override
        </button>
      </div>
      <DataTable
        caption={<>{rows.length} overrides in force</>}
        columns={['Name', 'Value', 'Kind', 'Expires', 'Set by', 'Reason', 'Actions']}
        rows={rows.map((o) => ({
          key: String(o.name),
          cells: [
            String(o.name),
            String(o.value),
            o.pinned ? 'pinned' : 'set',
            String(o.expiresAt ?? 'never'),
            String(o.by),
            String(o.reason),
            <div class="buttons">
              <button
                type="button"
                disabled={readOnly}
                aria-label={`Change override of ${String(o.name)}`}
                onClick={() =>
                  ask(
                    {
                      title: `Change the override of ${String(o.name)}`,
                      method: 'PUT',
                      path: `/admin/v1/overrides/${encodeURIComponent(String(o.name))}`,
                      inputs: [{ key: 'value', label: 'Value', initial: String(o.value) }],
                      body: ({ value }) => ({ value }),
                      summary: (r) => <OverrideSummary result={r} />,
                    },
                    reload,
                  )
                }
              >
                Change
              </button>
              <button
                type="button"
                disabled={readOnly}
                aria-label={`Remove override of ${String(o.name)}`}
                onClick={() => ask({ title: `Remove the override of ${String(o.name)}`, method: 'DELETE', path: `/admin/v1/overrides/${encodeURIComponent(String(o.name))}`, body: () => ({}), summary: (r) => <OverrideSummary result={r} /> }, reload)}
              >
                Remove override
              </button>
            </div>,
          ],
        }))}
      />
    </section>
  );
}

function Denylists() {
  return (
    <section aria-labelledby="denylists-title">
      <h2 id="denylists-title">Denylists</h2>
      <p>This dnslinkd has no denylist admin API yet (POST /admin/v1/denylist/rules lands with the denylist work): there are no lists to show. Blocking a name is not offered until it does.</p>
    </section>
  );
}

function Flush({ readOnly, ask }: { readOnly: boolean; ask: (change: Change, after: () => void) => void }) {
  const [scope, setScope] = useState<'name' | 'suffix' | 'all'>('name');
  const [target, setTarget] = useState('');
  const [negativeOnly, setNegativeOnly] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    const t = scope === 'all' ? { all: true as const } : { [scope]: target.trim() };
    ask(flushChange(t, negativeOnly), () => setDone('Flushed.'));
  };
  return (
    <section aria-labelledby="flush-title">
      <h2 id="flush-title">Flush the cache</h2>
      <form onSubmit={submit}>
        <fieldset>
          <legend>What to flush</legend>
          {(['name', 'suffix', 'all'] as const).map((s) => (
            <label key={s}>
              <input type="radio" name="scope" checked={scope === s} onChange={() => setScope(s)} />
              {s === 'name' ? 'One name' : s === 'suffix' ? 'A name and everything under it' : 'Everything'}
            </label>
          ))}
        </fieldset>
        {scope !== 'all' && (
          <label>
            Flush target
            <input name="target" required value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
          </label>
        )}
        <label>
          <input type="checkbox" checked={negativeOnly} onChange={(e) => setNegativeOnly(e.currentTarget.checked)} />
          Negative answers only
        </label>
        <button type="submit" disabled={readOnly}>
          Flush…
        </button>
      </form>
      {done && <p role="status">{done}</p>}
    </section>
  );
}

const AUDIT_PAGE = 25;
/** The audit log's actions (docs/admin-api.md, GET /admin/v1/audit). */
const AUDIT_ACTIONS = ['override.set', 'override.pin', 'override.remove', 'override.import', 'override.expire', 'override.restore', 'override.accept-reset', 'cache.flush'];

function Audit() {
  const [filters, setFilters] = useState({ name: '', token: '', action: '', since: '', until: '' });
  const [applied, setApplied] = useState(filters);
  const [pages, setPages] = useState<string[]>([]);
  const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);
  const path = withQuery('/admin/v1/audit', { name: applied.name.trim(), token: applied.token.trim(), action: applied.action, since: iso(applied.since), until: iso(applied.until), before: pages.at(-1), limit: String(AUDIT_PAGE) });
  const { answer } = useAdmin<{ records: Array<Record<string, unknown>> }>(path);
  const records = answer?.status === 200 ? answer.body.records : [];
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          setPages([]);
          setApplied(filters);
        }}
      >
        <label>
          Filter by name
          <input name="name" value={filters.name} onInput={(e) => setFilters({ ...filters, name: e.currentTarget.value })} />
        </label>
        <label>
          Who (token label)
          <input name="token" value={filters.token} onInput={(e) => setFilters({ ...filters, token: e.currentTarget.value })} />
        </label>
        <label>
          Kind
          <select name="action" value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.currentTarget.value })}>
            <option value="">any</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={filters.since} onInput={(e) => setFilters({ ...filters, since: e.currentTarget.value })} />
        </label>
        <label>
          To
          <input type="datetime-local" value={filters.until} onInput={(e) => setFilters({ ...filters, until: e.currentTarget.value })} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Problem answer={answer as Answer | null} />
      <DataTable
        caption={<>Newest first{pages.length ? `, page ${pages.length + 1}` : ''}</>}
        columns={['Time', 'Who', 'Actions', 'Name', 'Reason', 'After']}
        rows={records.map((r) => ({
          key: String(r.id),
          cells: [
            String(r.time),
            String(r.token),
            <>{String(r.action)}{r.dryRun ? ' (dry run)' : ''}</>,
            String(r.name ?? ''),
            String(r.reason ?? ''),
            <>{r.after && typeof r.after === 'object' ? String((r.after as { value?: string }).value ?? '') : ''}</>,
          ],
        }))}
      />
      <div class="buttons">
        <button type="button" disabled={pages.length === 0} onClick={() => setPages(pages.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={records.length < AUDIT_PAGE} onClick={() => setPages([...pages, String(records.at(-1)?.id)])}>
          Older
        </button>
      </div>
    </section>
  );
}

function App() {
  const [who, setWho] = useState<Who | null>(null);
  const [checking, setChecking] = useState(session.token !== null);
  const [change, setChange] = useState<{ change: Change; after: () => void } | null>(null);
  const hash = useHash();
  useEffect(() => {
    if (!session.token) return;
    void admin<Who>('GET', '/admin/v1/whoami').then((a) => {
      if (a.status === 200) setWho(a.body);
      else session.clear();
      setChecking(false);
    });
  }, []);
  if (checking) return <p>Signing in…</p>;
  if (!who) return <SignIn onSignedIn={setWho} />;
  const readOnly = who.scope !== 'write';
  const ask = (c: Change, after: () => void) => setChange({ change: c, after });
  const page = PAGES.find((p) => p.hash === hash) ?? PAGES[0];
  return (
    <>
      <header>
        <h1>dnslinkd console</h1>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.hash}>
                <a href={p.hash} aria-current={p === page ? 'page' : undefined}>
                  {p.name}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="who">
          Signed in as {who.label} ({who.scope}){' '}
          <button
            type="button"
            onClick={() => {
              session.clear();
              setWho(null);
            }}
          >
            Sign out
          </button>
        </p>
      </header>
      {readOnly && (
        <p role="status" class="readonly">
          Read-only token: you can look at everything; changes are disabled.
        </p>
      )}
      <main>
        {page.name === 'Overview' && <Overview />}
        {page.name === 'Look up' && <LookUp readOnly={readOnly} ask={ask} />}
        {page.name === 'Overrides' && <Overrides readOnly={readOnly} ask={ask} />}
        {page.name === 'Denylists' && <Denylists />}
        {page.name === 'Flush' && <Flush readOnly={readOnly} ask={ask} />}
        {page.name === 'Audit' && <Audit />}
      </main>
      {change && (
        <ChangeDialog
          change={change.change}
          onClose={(done) => {
            const after = change.after;
            setChange(null);
            if (done) after();
          }}
        />
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
