import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkDestinationSyntax,
  isForbiddenAddress,
  resolveDestination,
  type Resolve,
} from '../../src/domain/destinations.js';

const FORBIDDEN = [
  // IPv4
  '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.254', '127.0.0.1', '127.255.255.254',
  '169.254.0.1', '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.0.2.1', '192.168.0.1',
  '192.168.255.255', '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250',
  '240.0.0.1', '255.255.255.255',
  // IPv6
  '::', '::1', '[::1]', '0:0:0:0:0:0:0:1', 'fc00::1', 'fd12:3456::1', 'fd00:ec2::254', 'fe80::1', 'fe80::1%eth0',
  'febf:ffff::1', 'ff02::1', 'ff05::1:3', 'fec0::1', '2001:db8::1', '100::1', '64:ff9b:1::a',
  // IPv4-mapped, dotted and hex
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:7F00:0001', '::ffff:10.1.2.3', '::ffff:a9fe:a9fe', '::ffff:192.168.1.1',
  '0:0:0:0:0:ffff:c0a8:0101',
  // IPv4-compatible and SIIT
  '::127.0.0.1', '::a00:1', '::ffff:0:127.0.0.1',
  // NAT64, 6to4, Teredo embedding a forbidden IPv4
  '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b::c0a8:1', '2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:c0a8:101::',
  '2001:0:4136:e378:8000:63bf:80ff:fffe',
  // Not an address at all: fail closed
  '', 'localhost', 'example.com', '1.2.3', '256.1.1.1', '::g',
];

const ALLOWED = [
  '1.1.1.1', '8.8.8.8', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255', '128.0.0.1',
  '169.253.255.255', '169.255.0.0', '172.15.255.255', '172.32.0.0', '192.0.1.1', '192.167.255.255', '192.169.0.0',
  '198.17.255.255', '198.20.0.0', '223.255.255.255', '93.184.216.34',
  '2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001::1', 'fbff::1', 'fe7f::1',
  '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '64:ff9b::808:808', '2002:808:808::1',
  '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
];

describe('isForbiddenAddress', () => {
  for (const ip of FORBIDDEN) it(`forbids ${JSON.stringify(ip)}`, () => assert.equal(isForbiddenAddress(ip), true));
  for (const ip of ALLOWED) it(`allows ${ip}`, () => assert.equal(isForbiddenAddress(ip), false));

  // An independent oracle: node's BlockList fed with the ranges written out again here.
  const ranges: [string, number][] = [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
    ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ];
  const oracle = new BlockList();
  for (const [net, prefix] of ranges) oracle.addSubnet(net, prefix, 'ipv4');
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((q) => q.join('.'));
  const hex = (q: string) => {
    const b = q.split('.').map(Number) as [number, number, number, number];
    return `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  };

  it('agrees with a BlockList on random IPv4 addresses', () => {
    fc.assert(fc.property(ipv4, (ip) => isForbiddenAddress(ip) === oracle.check(ip, 'ipv4')), { numRuns: 20_000 });
  });

  it('forbids random addresses drawn from inside each range', () => {
    const inside = fc.constantFrom(...ranges).chain(([net, prefix]) =>
      fc.nat(2 ** (32 - prefix) - 1).map((offset) => {
        const base = net.split('.').reduce((n, o) => n * 256 + Number(o), 0);
        const n = base + offset;
        return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      }),
    );
    fc.assert(fc.property(inside, (ip) => isForbiddenAddress(ip)), { numRuns: 5_000 });
  });

  it('judges every IPv6 embedding of an IPv4 address as that address', () => {
    fc.assert(
      fc.property(ipv4, (ip) => {
        const want = oracle.check(ip, 'ipv4');
        const b = ip.split('.').map(Number);
        const teredo = b.map((x) => (~x & 255).toString(16).padStart(2, '0')).join('');
        const forms = [
          `::ffff:${ip}`,
          `::ffff:${hex(ip)}`,
          `64:ff9b::${ip}`,
          `64:ff9b::${hex(ip)}`,
          `2002:${hex(ip)}::1`,
          `2001:0:4136:e378:8000:63bf:${teredo.slice(0, 4)}:${teredo.slice(4)}`,
        ];
        return forms.every((f) => isForbiddenAddress(f) === want);
      }),
      { numRuns: 5_000 },
    );
  });

  it('forbids every address of fc00::/7, fe80::/10 and ff00::/8', () => {
    const group = fc.nat(0xffff).map((n) => n.toString(16));
    const rest = fc.array(group, { minLength: 7, maxLength: 7 }).map((g) => g.join(':'));
    const first = fc.oneof(
      fc.integer({ min: 0xfc00, max: 0xfdff }),
      fc.integer({ min: 0xfe80, max: 0xfebf }),
      fc.integer({ min: 0xff00, max: 0xffff }),
    );
    fc.assert(fc.property(first, rest, (f, r) => isForbiddenAddress(`${f.toString(16)}:${r}`)));
  });
});

describe('checkDestinationSyntax', () => {
  const ok = (raw: string, insecure = false) => {
    const r = checkDestinationSyntax(raw, insecure);
    assert.equal(r.ok, true, `${raw}: ${r.ok ? '' : r.reason}`);
  };
  const bad = (raw: string, insecure: boolean, reason: RegExp) => {
    const r = checkDestinationSyntax(raw, insecure);
    assert.equal(r.ok, false, raw);
    if (!r.ok) assert.match(r.reason, reason);
  };

  it('accepts https URLs with public hosts', () => {
    ok('https://example.com/hook');
    ok('https://hooks.example.com:8443/a/b?c=d');
    ok('https://93.184.216.34/hook');
    ok('https://[2606:4700:4700::1111]/hook');
    // Names are judged when resolved, not here.
    ok('https://localhost/hook');
  });
  it('returns the parsed URL', () => {
    const r = checkDestinationSyntax('https://Example.COM/x', false);
    assert.ok(r.ok);
    assert.equal(r.url.hostname, 'example.com');
  });
  it('refuses what is not an absolute URL', () => {
    for (const raw of ['', 'hook', '/hook', 'example.com/hook', '://x', 'https://']) bad(raw, true, /absolute URL/);
  });
  it('refuses other schemes, and http unless insecure destinations are allowed', () => {
    bad('http://example.com/hook', false, /https:\/\//);
    ok('http://example.com/hook', true);
    for (const raw of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://x/', 'javascript:alert(1)', 'data:,x']) {
      bad(raw, true, /http/);
    }
  });
  it('refuses credentials', () => {
    bad('https://user:pass@example.com/', false, /credentials/);
    bad('https://user@example.com/', true, /credentials/);
  });
  it('refuses forbidden IP literals, in every spelling, unless insecure', () => {
    for (const raw of [
      'https://127.0.0.1/',
      'https://127.1/',
      'https://0x7f.0.0.1/',
      'https://2130706433/',
      'https://0177.0.0.1/',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.1:8443/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/',
      'https://[fd00:ec2::254]/',
      'https://[64:ff9b::a9fe:a9fe]/',
      'https://0.0.0.0/',
    ]) {
      bad(raw, false, /private, loopback/);
      ok(raw.replace('https:', 'http:'), true);
    }
  });
  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl()), fc.boolean(), (raw, insecure) => {
        const r = checkDestinationSyntax(raw, insecure);
        return r.ok ? ['https:', 'http:'].includes(r.url.protocol) : r.reason.length > 0;
      }),
    );
  });
});

describe('resolveDestination', () => {
  const fixed =
    (answers: Record<string, string[]>): Resolve =>
    async (host) => {
      const a = answers[host];
      if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };

  it('resolves a real name through the system resolver (localhost, from /etc/hosts)', async () => {
    const r = await resolveDestination('localhost', true);
    assert.ok(r.ok);
    assert.ok(r.addresses.some((a) => a === '127.0.0.1' || a === '::1'));
  });
  it('refuses a name resolving to loopback unless insecure', async () => {
    const r = await resolveDestination('localhost', false);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.errorClass, 'unsafe_destination');
      assert.match(r.message, /localhost resolves to a non-public address/);
      assert.doesNotMatch(r.message, /127\.0\.0\.1|::1/, "the internal address is not revealed");
    }
  });
  it('reports DNS failure for a name that does not exist', async () => {
    const r = await resolveDestination('no-such-host.invalid', false);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.errorClass, 'dns');
  });
  it('refuses a name when any one of its addresses is forbidden', async () => {
    const resolve = fixed({ 'mixed.test': ['93.184.216.34', '10.0.0.5'], 'public.test': ['93.184.216.34', '2606:4700::1'] });
    const mixed = await resolveDestination('mixed.test', false, resolve);
    assert.deepEqual(mixed.ok ? null : mixed.errorClass, 'unsafe_destination');
    assert.deepEqual(await resolveDestination('public.test', false, resolve), {
      ok: true,
      addresses: ['93.184.216.34', '2606:4700::1'],
    });
    assert.deepEqual(await resolveDestination('mixed.test', true, resolve), {
      ok: true,
      addresses: ['93.184.216.34', '10.0.0.5'],
    });
  });
  it('judges IP literals without asking the resolver', async () => {
    const never: Resolve = () => Promise.reject(new Error('must not be called'));
    assert.deepEqual(await resolveDestination('8.8.8.8', false, never), { ok: true, addresses: ['8.8.8.8'] });
    const r = await resolveDestination('[::1]', false, never);
    assert.equal(r.ok ? null : r.errorClass, 'unsafe_destination');
  });
  it('reports a name with no addresses as a DNS failure', async () => {
    const r = await resolveDestination('empty.test', false, async () => []);
    assert.equal(r.ok ? null : r.errorClass, 'dns');
  });
});
