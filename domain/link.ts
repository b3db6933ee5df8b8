/**
 * Links, for R-ONE-ACTIVE-PER-LINK: two orders hold "the same link" when their
 * normalised forms are equal. Normalising must merge what users paste for one target
 * (http vs https, WWW.Instagram.com, a trailing slash, share-tracking parameters)
 * and keep apart what really differs (path case: YouTube ids are case-sensitive;
 * meaningful query parameters such as YouTube's `v`).
 *
 * Uses the WHATWG URL global, which Node and Temporal's workflow sandbox both provide
 * (no import of node:url).
 *
 * Decisions:
 *  - a missing scheme means https ("instagram.com/x" is what people paste);
 *  - only http and https are links; both normalise to https;
 *  - the host is lower-cased, a trailing dot and ONE leading "www." are dropped (not from
 *    "www.com" itself)
 *    (www.instagram.com and instagram.com are the same profile everywhere we sell);
 *    other subdomains (m.facebook.com) are kept: merging them needs per-site knowledge;
 *  - default ports are dropped, the fragment is dropped;
 *  - trailing slashes of the path are dropped; path case is kept;
 *  - tracking parameters (TRACKING_PARAMS, any utm_*) are dropped, case-insensitively;
 *    the others are kept, sorted by name then value, so their order does not matter;
 *  - user:password@ parts, whitespace inside the link and hosts without a dot are refused.
 */

/** Query parameters that only say where a link was shared from, never what it points to. */
export const TRACKING_PARAMS: readonly string[] = [
  'igshid', 'igsh', 'fbclid', 'gclid', 'si', 'feature', 'ref', 'ref_src', 's',
];

export type LinkCheck = { ok: true; normalized: string } | { ok: false; message: string };

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function isTrackingParam(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('utm_') || TRACKING_PARAMS.includes(n);
}

/** Parses the text as a URL, assuming https when no scheme is written; null if not a URL. */
function parseUrl(text: string): URL | null {
  const withScheme = HAS_SCHEME.test(text) ? text : `https://${text.replace(/^\/\//, '')}`;
  try {
    return new URL(withScheme);
  } catch {
    return null;
  }
}

/**
 * The host as we compare it: lower case (URL already does that), no trailing dot, no
 * leading "www." unless that is all there is before the top-level domain ("www.com").
 */
function normalizeHost(hostname: string): string {
  const host = hostname.replace(/\.$/, '');
  const bare = host.replace(/^www\./, '');
  return bare.includes('.') ? bare : host;
}

/** Remaining query parameters, tracking ones removed, sorted by name then value. */
function normalizeQuery(params: URLSearchParams): string {
  const kept = [...params.entries()].filter(([name]) => !isTrackingParam(name));
  kept.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return new URLSearchParams(kept).toString();
}

/**
 * Checks that `link` is a usable http(s) URL and returns its normalised form, or a
 * message a user understands. Never throws.
 */
export function validateLink(link: string): LinkCheck {
  if (typeof link !== 'string') return { ok: false, message: 'link must be text' };
  const text = link.trim();
  if (text === '') return { ok: false, message: 'link is empty' };
  if (/\s/.test(text)) return { ok: false, message: 'link must not contain spaces' };
  const url = parseUrl(text);
  if (!url) return { ok: false, message: `link is not a valid URL: ${text}` };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `link must be an http or https URL, got ${url.protocol.slice(0, -1)}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'link must not contain a user name or password' };
  }
  const host = normalizeHost(url.hostname);
  if (!host.includes('.') || host.startsWith('.') || host.includes('..')) {
    return { ok: false, message: `link has no valid host name: ${text}` };
  }
  // Ports: URL drops the scheme's default; since http becomes https, port 443 is also default.
  const port = url.port === '' || url.port === '443' ? '' : `:${url.port}`;
  const path = url.pathname.replace(/\/+$/, '');
  const query = normalizeQuery(url.searchParams);
  return { ok: true, normalized: `https://${host}${port}${path}${query ? `?${query}` : ''}` };
}

/**
 * R-ONE-ACTIVE-PER-LINK: the key under which a link holds its active order.
 * Throws (with validateLink's message) for something that is not a link.
 */
export function normalizeLink(link: string): string {
  const check = validateLink(link);
  if (!check.ok) throw new RangeError(check.message);
  return check.normalized;
}
