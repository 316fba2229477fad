import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** Loads data for a view: re-runs when `deps` change; `reload` runs it again. Drops answers that arrive after a newer request. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const n = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => n === latest.current && setState({ data, loading: false }),
      (error: unknown) => n === latest.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** An action button's state: running, and what the last run said. */
export function useAction(): {
  busy: boolean;
  error?: unknown;
  done?: string;
  run: (f: () => Promise<string | void>) => Promise<void>;
} {
  const [s, setS] = useState<{ busy: boolean; error?: unknown; done?: string }>({ busy: false });
  const run = useCallback(async (f: () => Promise<string | void>) => {
    setS({ busy: true });
    try {
      const done = await f();
      setS({ busy: false, done: done ?? undefined });
    } catch (error) {
      setS({ busy: false, error });
    }
  }, []);
  return { ...s, run };
}

/** An error, in words: the API's developerMessage and each violation, announced to screen readers. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const e = error instanceof ApiError ? error : undefined;
  return (
    <div class="error" role="alert">
      <p>
        <strong>{e ? `${e.status === 403 ? 'Not allowed' : e.status === 404 ? 'Not found' : 'Refused'}: ` : 'Error: '}</strong>
        {error instanceof Error ? error.message : String(error)}
        {e?.errorType ? <span class="muted"> ({e.errorType})</span> : null}
      </p>
      {e && e.violations.length > 0 ? (
        <ul>
          {e.violations.map((v) => (
            <li key={v.propertyName + v.developerMessage}>
              <code>{v.propertyName}</code>: {v.developerMessage}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/** Loading / error / content, for a view's data. */
export function Loaded<T>({
  state,
  children,
}: {
  state: { data?: T; error?: unknown; loading: boolean };
  children: (data: T) => ComponentChildren;
}) {
  if (state.error !== undefined) return <ErrorMessage error={state.error} />;
  if (state.data === undefined)
    return (
      <p class="muted" aria-busy="true">
        Loading…
      </p>
    );
  return <>{children(state.data)}</>;
}

export function StatusBadge({ status }: { status: string }) {
  const tone = ['ACTIVE', 'delivered', 'success', 'growing', 'steady'].includes(status)
    ? 'good'
    : ['pending', 'backing-off', 'paused'].includes(status)
      ? 'warn'
      : 'bad';
  return <span class={`badge ${tone}`}>{status}</span>;
}

/** A time, shown in the reader's locale, with the exact ISO value on hover and for machines. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
    </time>
  );
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export const percent = (part: number, whole: number): string => (whole === 0 ? '—' : `${Math.round((part / whole) * 1000) / 10}%`);

/** A page of a table: the next page's link, when the server said there is one. */
export function Pager({ next, label = 'Older' }: { next?: string; label?: string }) {
  if (!next) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <a class="button" href={next}>
        {label} →
      </a>
    </nav>
  );
}

/** A dialog-free confirmation: the button asks once, then acts on the second press. Focus follows the question and comes back. */
export function ConfirmButton({
  label,
  confirm,
  onConfirm,
  disabled,
}: {
  label: string;
  confirm: string;
  onConfirm: () => void;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  const ask = useRef<HTMLButtonElement>(null);
  const returning = useRef(false);
  useEffect(() => {
    if (asking) yes.current?.focus();
    else if (returning.current) ask.current?.focus();
    returning.current = false;
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="danger" disabled={disabled} ref={ask} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={confirm}>
      <span>{confirm}</span>
      <button type="button" class="danger" ref={yes} onClick={() => (setAsking(false), onConfirm())}>
        Yes, {label.toLowerCase()}
      </button>
      <button type="button" onClick={() => ((returning.current = true), setAsking(false))}>
        Cancel
      </button>
    </span>
  );
}
