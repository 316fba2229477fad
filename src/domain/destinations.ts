/**
 * Destination safety (issue 4): a webhook destination must be https:// and must not
 * reach loopback, private, link-local, multicast or cloud-metadata addresses, so that
 * a subscriber cannot make Herald probe its own network (SSRF). The syntax check runs
 * when a subscription is written; the address check runs again at connect time in
 * delivery/send.ts, because DNS answers can change between the two (DNS rebinding).
 * HERALD_ALLOW_INSECURE_DESTINATIONS=true lifts both rules, for development and tests.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A CIDR block as data: the address's bytes and how many leading bits must match. */
interface Cidr {
  bytes: number[];
  bits: number;
  why: string;
}

const v4 = (cidr: string, why: string): Cidr => {
  const [addr, bits] = cidr.split('/') as [string, string];
  return { bytes: addr.split('.').map(Number), bits: Number(bits), why };
};

const v6 = (cidr: string, why: string): Cidr => {
  const [addr, bits] = cidr.split('/') as [string, string];
  return { bytes: parseIpv6(addr)!, bits: Number(bits), why };
};

/**
 * IPv4 blocks no webhook may reach: RFC 6890 special-purpose ranges that are either
 * local to Herald's network or not routable on the internet.
 */
const FORBIDDEN_V4: readonly Cidr[] = [
  v4('0.0.0.0/8', 'this network'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'carrier-grade NAT'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local (includes cloud metadata 169.254.169.254)'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'IETF protocol assignments'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved (includes broadcast 255.255.255.255)'),
];

/** IPv6 blocks no webhook may reach (the forms that embed an IPv4 address are checked apart). */
const FORBIDDEN_V6: readonly Cidr[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('64:ff9b:1::/48', 'local-use NAT64'),
  v6('100::/64', 'discard'),
  v6('2001:db8::/32', 'documentation'),
  v6('fc00::/7', 'unique local (includes AWS metadata fd00:ec2::254)'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
];

function matches(bytes: readonly number[], cidr: Cidr): boolean {
  for (let bit = 0; bit < cidr.bits; bit += 8) {
    const left = Math.min(8, cidr.bits - bit);
    const mask = (0xff << (8 - left)) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((cidr.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** The 16 bytes of an IPv6 address (zone id and brackets allowed), or undefined. */
function parseIpv6(raw: string): number[] | undefined {
  const ip = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(ip) !== 6) return undefined;
  let head = ip;
  let tail: number[] = [];
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (dotted) {
    tail = dotted[2]!.split('.').map(Number);
    // Keep a "::" that precedes the quad; drop a single separating ":".
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const groupsWanted = tail.length ? 6 : 8;
  const [left, right] = head.includes('::') ? (head.split('::') as [string, string]) : [head, undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const groups = right === undefined ? l : [...l, ...Array<number>(groupsWanted - l.length - r.length).fill(0), ...r];
  if (groups.length !== groupsWanted) return undefined;
  return [...groups.flatMap((g) => [g >> 8, g & 0xff]), ...tail];
}

const isV4Forbidden = (bytes: readonly number[]): boolean => FORBIDDEN_V4.some((c) => matches(bytes, c));

/** The IPv4 address an IPv6 address carries by a standard translation, if any. */
function embeddedV4(b: readonly number[]): number[] | undefined {
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
  if (zero(0, 10) && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0))) return b.slice(12);
  // ::ffff:0:a.b.c.d (SIIT translated).
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return b.slice(12);
  // 64:ff9b::/96, well-known NAT64 prefix.
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return b.slice(12);
  // 2002::/16, 6to4: the relay's IPv4 address follows the prefix.
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6);
  // 2001::/32, Teredo: the client's IPv4 address, bit-inverted, in the last 32 bits.
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return b.slice(12).map((x) => ~x & 0xff);
  return undefined;
}

/**
 * True when a delivery must not connect to this IP address. Anything that is not a
 * valid IPv4 or IPv6 address counts as forbidden (fail closed).
 */
export function isForbiddenAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return isV4Forbidden(bare.split('.').map(Number));
  if (family !== 6) return true;
  const bytes = parseIpv6(bare);
  if (!bytes) return true;
  if (FORBIDDEN_V6.some((c) => matches(bytes, c))) return true;
  const inner = embeddedV4(bytes);
  return inner !== undefined && isV4Forbidden(inner);
}

/** The result of checking a destination URL as written. */
/** A failure is `unsafe` when the URL is well formed but points where Herald must not send (scheme, address). */
export type DestinationSyntax = { ok: true; url: URL } | { ok: false; reason: string; unsafe: boolean };

/**
 * Checks a destination URL as written: absolute, https (http too when insecure
 * destinations are allowed), no credentials, a host, and no forbidden IP literal.
 * Names are checked when resolved (resolveDestination, and again at connect time).
 */
export function checkDestinationSyntax(raw: string, allowInsecure: boolean): DestinationSyntax {
  // The URL parser strips or escapes these; the raw string is what gets stored and
  // shown back, so it must be exactly a URL (PostgreSQL also refuses U+0000 in text).
  if (raw.length > DESTINATION_MAX_LENGTH) return { ok: false, reason: `must be at most ${DESTINATION_MAX_LENGTH} characters`, unsafe: false };
  if (hasSpaceOrControl(raw)) return { ok: false, reason: 'must not contain spaces or control characters', unsafe: false };
  if (LONE_SURROGATE.test(raw)) return { ok: false, reason: 'must be well-formed Unicode', unsafe: false };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'must be an absolute URL', unsafe: false };
  }
  const schemes = allowInsecure ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    return { ok: false, reason: allowInsecure ? 'must be an http:// or https:// URL' : 'must be an https:// URL', unsafe: true };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not contain credentials', unsafe: false };
  if (url.hostname === '') return { ok: false, reason: 'must have a host', unsafe: false };
  // The URL parser has already normalised odd IPv4 forms (0x7f.1, 2130706433) to dotted quads.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowInsecure && isIP(host) !== 0 && isForbiddenAddress(host)) {
    return { ok: false, reason: `must not point to a private, loopback, link-local or reserved address (${host})`, unsafe: true };
  }
  return { ok: true, url };
}

/** Longest destination accepted; URLs past this are refused by many servers anyway. */
export const DESTINATION_MAX_LENGTH = 2048;

/** True when s has a space, or a C0 or C1 control character (U+0000-U+0020, U+007F-U+009F). */
function hasSpaceOrControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** A UTF-16 surrogate without its pair: not a character, and not storable as UTF-8. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One address a name resolved to, as dns.lookup gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses (dns.lookup with all: true, or a stand-in). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (what the OS would connect to: /etc/hosts, then DNS). */
export const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The result of resolving a destination host. */
export type ResolvedDestination =
  | { ok: true; addresses: string[] }
  | { ok: false; errorClass: 'dns' | 'unsafe_destination'; message: string };

/**
 * Resolves a destination host and refuses it when any of its addresses is forbidden
 * (unless insecure destinations are allowed): a name that mixes a public and a private
 * address could otherwise reach the private one on some attempt.
 */
export async function resolveDestination(
  hostname: string,
  allowInsecure: boolean,
  resolve: Resolve = systemResolve,
): Promise<ResolvedDestination> {
  const host = hostname.replace(/^\[|\]$/g, '');
  let found: ResolvedAddress[];
  try {
    found = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await resolve(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, errorClass: 'dns', message: `cannot resolve ${host}${code ? ` (${code})` : ''}` };
  }
  if (found.length === 0) return { ok: false, errorClass: 'dns', message: `${host} has no addresses` };
  const addresses = found.map((a) => a.address);
  const bad = addresses.filter(isForbiddenAddress);
  if (!allowInsecure && bad.length > 0) {
    return {
      ok: false,
      errorClass: 'unsafe_destination',
      // Which addresses is not said: the answer would map internal names for anyone who asks.
      message: `${host} resolves to a non-public address`,
    };
  }
  return { ok: true, addresses };
}
