import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';

/** Most items one page may hold: a page's work is bounded whatever the client asks. */
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** Betterez-style paging: `?page=N&pageSize=M`, pages counted from 1. */
export const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'The page, from 1.' })),
  pageSize: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `Items per page, at most ${MAX_PAGE_SIZE}.` }),
  ),
});

export interface Page {
  page: number;
  pageSize: number;
}

/** The page a request asks for, defaults filled in. */
export function pageOf(req: FastifyRequest): Page {
  const q = req.query as { page?: number; pageSize?: number };
  return { page: q.page ?? 1, pageSize: q.pageSize ?? DEFAULT_PAGE_SIZE };
}

/**
 * Betterez's `next` and `previous`: the full URL of that page (the request's URL with
 * `page` changed, other parameters kept), or "" when there is none.
 */
export function pageLinks(req: FastifyRequest, config: Pick<Config, 'publicUrl'>, page: Page, count: number): { next: string; previous: string } {
  const base = config.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`;
  const link = (n: number) => {
    const url = new URL(req.url, 'http://placeholder');
    url.searchParams.set('page', String(n));
    url.searchParams.set('pageSize', String(page.pageSize));
    return `${base}${url.pathname}${url.search}`;
  };
  return {
    next: page.page * page.pageSize < count ? link(page.page + 1) : '',
    previous: page.page > 1 ? link(page.page - 1) : '',
  };
}
