import assert from 'node:assert/strict';
import { v1 as uuidV1 } from 'uuid';
import type { Scope } from '../../src/domain/scopes.js';
import type { TestHerald } from './herald.js';

export interface TestCredential {
  organizationUuid: string;
  apiKey: string;
  apiKeyId: string;
  /** Authorization header value. */
  auth: string;
}

/** Creates an organization (or uses `organizationUuid`) and an API key with these scopes, through the admin API. */
export async function createCredential(
  h: TestHerald,
  scopes: Scope[],
  opts: { organizationUuid?: string; livemode?: boolean } = {},
): Promise<TestCredential> {
  let organizationUuid = opts.organizationUuid;
  if (!organizationUuid) {
    const org = await h.admin('/admin/organizations', { method: 'POST', body: JSON.stringify({ name: 'Test Org' }) });
    if (org.status !== 201) throw new Error(`creating an organization: ${org.status} ${await org.text()}`);
    organizationUuid = ((await org.json()) as { organizationUuid: string }).organizationUuid;
  }
  const key = await h.admin(`/admin/organizations/${organizationUuid}/api-keys`, {
    method: 'POST',
    body: JSON.stringify({ name: 'test key', scopes, livemode: opts.livemode ?? true }),
  });
  if (key.status !== 201) throw new Error(`creating an API key: ${key.status} ${await key.text()}`);
  const { apiKey, apiKeyId } = (await key.json()) as { apiKey: string; apiKeyId: string };
  return { organizationUuid, apiKey, apiKeyId, auth: `Bearer ${apiKey}` };
}

/** fetch with a credential and a JSON body. */
export function asCredential(h: TestHerald, cred: TestCredential | null) {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    h.request(path, {
      method,
      headers: {
        ...(cred ? { authorization: cred.auth } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
}

/** Creates a webhook subscription with the credential through the Pusher API (its TestMessage must pass); 200 or the test fails. */
export async function subscribe(
  h: TestHerald,
  cred: TestCredential,
  input: { destination: string; eventNames: string[]; contactEmail: string },
): Promise<{ uuid: string; signingKey: string }> {
  const res = await asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
    uuid: uuidV1(),
    transportName: 'WEBHOOK',
    ...input,
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { uuid: string; signingKey: string };
}
