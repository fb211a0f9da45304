/**
 * Which addresses `web_fetch` may reach: the public internet only, unless allowed. A host is
 * refused when ANY of its addresses is not public, so a name with one public and one loopback
 * record cannot be used to reach the loopback one.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address of a host name (node:dns lookup with `all: true` by default; tests inject their own). */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: LookupAll = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** A host web_fetch will not reach; `message` is what the model reads. */
export class AddressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefused';
  }
}

/** A host name that does not resolve (retrying will not help when `permanent`). */
export class HostNotFound extends Error {
  constructor(
    readonly hostname: string,
    readonly permanent: boolean,
    cause: unknown,
  ) {
    super(`could not resolve host ${hostname}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'HostNotFound';
  }
}

const REFUSED_SUFFIX = '(web_fetch only reaches the public internet)';

/** How an address is described when refused, or undefined when it is public. */
export function nonPublicKind(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const v4 = parseIPv4(bare);
  if (v4) return ipv4Kind(v4);
  const v6 = parseIPv6(bare);
  if (v6) return ipv6Kind(v6);
  return 'not an IP address';
}

function ipv4Kind([a, b, c]: number[]): string | undefined {
  if (a === 0) return b === 0 && c === 0 ? 'the unspecified address' : 'a reserved address';
  if (a === 127) return 'a loopback address';
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return 'a private address';
  if (a === 169 && b === 254) return 'a link-local address';
  if (a === 100 && b! >= 64 && b! <= 127) return 'a carrier-grade NAT (CGNAT) address';
  if (a! >= 224 && a! <= 239) return 'a multicast address';
  if (a! >= 240) return 'a reserved address';
  // IETF protocol assignments, documentation ranges, benchmarking.
  if ((a === 192 && b === 0 && (c === 0 || c === 2)) || (a === 198 && (b === 18 || b === 19))) {
    return 'a reserved address';
  }
  if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113))
    return 'a reserved address';
  return undefined;
}

function ipv6Kind(h: number[]): string | undefined {
  const zeroUpTo = (n: number) => h.slice(0, n).every((x) => x === 0);
  const embedded = () => ipv4Kind([h[6]! >> 8, h[6]! & 0xff, h[7]! >> 8, h[7]! & 0xff]);
  if (zeroUpTo(8)) return 'the unspecified address';
  if (zeroUpTo(7) && h[7] === 1) return 'a loopback address';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the embedded IPv4 address.
  if (zeroUpTo(5) && h[5] === 0xffff) return embedded();
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return embedded();
  if (zeroUpTo(6)) return 'a reserved address'; // deprecated IPv4-compatible
  if (h[0] === 0x2002) return ipv4Kind([h[1]! >> 8, h[1]! & 0xff, h[2]! >> 8, h[2]! & 0xff]); // 6to4
  if ((h[0]! & 0xfe00) === 0xfc00) return 'a unique-local IPv6 address';
  if ((h[0]! & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((h[0]! & 0xffc0) === 0xfec0) return 'a reserved address'; // deprecated site-local
  if ((h[0]! & 0xff00) === 0xff00) return 'a multicast address';
  if (h[0] === 0x2001 && h[1] === 0x0db8) return 'a reserved address'; // documentation
  if (h[0] === 0x0100 && zeroUpTo(4)) return 'a reserved address'; // discard-only
  return undefined;
}

function parseIPv4(text: string): number[] | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').map(Number);
}

/** Eight 16-bit groups; accepts `::`, a trailing dotted quad; a zone (`%eth0`) is already cut. */
function parseIPv6(text: string): number[] | undefined {
  if (isIP(text) !== 6) return undefined;
  let s = text.toLowerCase();
  const lastColon = s.lastIndexOf(':');
  const quad = parseIPv4(s.slice(lastColon + 1));
  if (quad) {
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hex(quad[0]!, quad[1]!)}:${hex(quad[2]!, quad[3]!)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) =>
    part ? part.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const left = groups(head);
  const right = groups(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  const all = [...left, ...fill, ...right];
  return all.length === 8 ? all : undefined;
}

/**
 * The addresses of `hostname` (a name or an IP literal, URL brackets allowed), refused with
 * AddressRefused when any of them is not public.
 */
export async function resolvePublic(hostname: string, lookup: LookupAll): Promise<ResolvedAddress[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host.split('%')[0]!);
  if (family !== 0) {
    const kind = nonPublicKind(host);
    if (kind) throw new AddressRefused(`refused: ${host} is ${kind} ${REFUSED_SUFFIX}`);
    return [{ address: host, family: family === 6 ? 6 : 4 }];
  }
  const addresses = await resolveAll(host, lookup);
  for (const { address } of addresses) {
    const kind = nonPublicKind(address);
    if (kind) throw new AddressRefused(`refused: ${host} resolves to ${address}, ${kind} ${REFUSED_SUFFIX}`);
  }
  return addresses;
}

/** All addresses of a name, with DNS errors turned into HostNotFound. */
export async function resolveAll(hostname: string, lookup: LookupAll): Promise<ResolvedAddress[]> {
  let addresses: ResolvedAddress[];
  try {
    addresses = await lookup(hostname);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    throw new HostNotFound(hostname, code === 'ENOTFOUND' || code === 'ENODATA', error);
  }
  if (addresses.length === 0) throw new HostNotFound(hostname, true, new Error('no addresses'));
  return addresses;
}
