import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/subscriptions/<uuid>?state=failed`): the server serves one page under
 * /console/, every view is a link, and the browser's back button and bookmarks work.
 */
export interface Route {
  /** The path's segments: `#/subscriptions/abc` → ['subscriptions', 'abc']. */
  parts: string[];
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = raw.split('?', 2);
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part; // a malformed escape: shown as typed (and found nowhere)
    }
  };
  return { parts: path.split('/').filter(Boolean).map(decode), query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** A link target: `href('subscriptions', uuid)` → `#/subscriptions/<uuid>`, with an optional query. */
export function href(...parts: (string | Record<string, string | undefined>)[]): string {
  const path = parts
    .filter((p): p is string => typeof p === 'string')
    .map(encodeURIComponent)
    .join('/');
  const q = parts.find((p): p is Record<string, string | undefined> => typeof p === 'object');
  const search = q
    ? new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString()
    : '';
  return `#/${path}${search ? `?${search}` : ''}`;
}

export function go(target: string): void {
  window.location.hash = target.replace(/^#/, '');
}
