import fc from 'fast-check';
import { TRACKING_PARAMS, normalizeLink, validateLink } from '../../domain/link';

describe('normalizeLink', () => {
  it.each([
    'https://www.instagram.com/user/',
    'http://instagram.com/user',
    'HTTPS://WWW.INSTAGRAM.COM/user',
    'instagram.com/user',
    '//instagram.com/user',
    'www.instagram.com/user?igshid=abc123',
    'https://instagram.com/user/#top',
    'https://instagram.com/user?utm_source=ig&utm_medium=share',
    'https://instagram.com/user?UTM_Source=ig&IGSH=x',
    'https://instagram.com:443/user',
    'http://instagram.com:80/user',
    '  https://instagram.com/user  ',
    'https://instagram.com./user',
    'https://instagram.com/user///',
  ])('R-ONE-ACTIVE-PER-LINK: %j is the same link as https://instagram.com/user', (link) => {
    expect(normalizeLink(link)).toBe('https://instagram.com/user');
  });

  it('R-ONE-ACTIVE-PER-LINK: drops every listed tracking parameter but keeps meaningful ones (YouTube v)', () => {
    const tracking = [...TRACKING_PARAMS, 'utm_campaign'].map((p) => `${p}=x`).join('&');
    expect(normalizeLink(`https://www.youtube.com/watch?${tracking}&v=dQw4w9WgXcQ`)).toBe(
      'https://youtube.com/watch?v=dQw4w9WgXcQ',
    );
  });

  it('R-ONE-ACTIVE-PER-LINK: the order of the remaining query parameters does not matter', () => {
    expect(normalizeLink('https://x.com/p?b=2&a=1&a=0')).toBe('https://x.com/p?a=0&a=1&b=2');
    expect(normalizeLink('https://x.com/p?a=0&b=2&a=1')).toBe('https://x.com/p?a=0&a=1&b=2');
  });

  it('R-ONE-ACTIVE-PER-LINK: keeps apart links that really differ (path case, video id case, other user)', () => {
    expect(normalizeLink('https://youtube.com/watch?v=abc')).not.toBe(normalizeLink('https://youtube.com/watch?v=ABC'));
    expect(normalizeLink('https://tiktok.com/@User/video/1')).not.toBe(normalizeLink('https://tiktok.com/@user/video/1'));
    expect(normalizeLink('https://instagram.com/user1')).not.toBe(normalizeLink('https://instagram.com/user2'));
  });

  it('R-ONE-ACTIVE-PER-LINK: keeps non-default ports and subdomains other than www (documented limit)', () => {
    expect(normalizeLink('https://example.com:8443/a')).toBe('https://example.com:8443/a');
    expect(normalizeLink('https://m.facebook.com/page')).toBe('https://m.facebook.com/page');
  });

  it('R-ONE-ACTIVE-PER-LINK: "www." is dropped once, and never when it would leave only a top-level domain', () => {
    expect(normalizeLink('https://www.www.example.com/a')).toBe('https://www.example.com/a');
    expect(normalizeLink('https://www.com/a')).toBe('https://www.com/a');
    expect(normalizeLink('https://www.www.com/a')).toBe('https://www.com/a');
  });

  it('R-ONE-ACTIVE-PER-LINK: a bare host normalises to https://host without a slash', () => {
    expect(normalizeLink('www.Example.com/')).toBe('https://example.com');
  });

  it('R-ONE-ACTIVE-PER-LINK: throws with the validation message for a non-link', () => {
    expect(() => normalizeLink('not a link')).toThrow('link must not contain spaces');
  });

  const label = fc.stringMatching(/^[a-z0-9]{1,8}$/);
  const segment = fc.stringMatching(/^[A-Za-z0-9_@.-]{1,10}$/).filter((s) => s !== '.' && s !== '..');
  const param = fc.tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[A-Za-z0-9]{0,5}$/));
  const linkParts = fc.record({
    // The last label is alphabetic: a numeric one ("a.0") is an invalid IPv4 address to the URL parser.
    host: fc.tuple(fc.array(label, { minLength: 1, maxLength: 2 }), fc.stringMatching(/^[a-z]{2,6}$/)).map(([ls, tld]) => [...ls, tld].join('.')),
    path: fc.array(segment, { maxLength: 3 }),
    params: fc.array(param, { maxLength: 4 }),
  });
  const build = (p: { host: string; path: string[]; params: [string, string][] }, opts: { www: boolean; scheme: string; slash: boolean; tracking: [string, string][]; reverse: boolean }) => {
    const params = [...p.params, ...opts.tracking];
    if (opts.reverse) params.reverse();
    const q = params.map(([k, v]) => `${k}=${v}`).join('&');
    const path = p.path.map((s) => `/${s}`).join('') + (opts.slash ? '/' : '');
    return `${opts.scheme}${opts.www ? 'www.' : ''}${p.host}${path}${q ? `?${q}` : ''}`;
  };

  it('R-ONE-ACTIVE-PER-LINK: scheme, www, trailing slash, tracking parameters and parameter order never change the key', () => {
    const trackingParam = fc.tuple(fc.constantFrom(...TRACKING_PARAMS, 'utm_source', 'utm_x'), fc.stringMatching(/^[a-z0-9]{1,4}$/));
    fc.assert(
      fc.property(
        linkParts.filter((p) => !p.params.some(([k]) => TRACKING_PARAMS.includes(k))),
        fc.constantFrom('https://', 'http://', 'HTTP://', ''),
        fc.boolean(), fc.boolean(), fc.array(trackingParam, { maxLength: 3 }), fc.boolean(),
        (parts, scheme, www, slash, tracking, reverse) => {
          const plain = build(parts, { www: false, scheme: 'https://', slash: false, tracking: [], reverse: false });
          const noisy = build(parts, { www, scheme, slash, tracking, reverse });
          expect(normalizeLink(noisy)).toBe(normalizeLink(plain));
        },
      ),
    );
  });

  it('R-ONE-ACTIVE-PER-LINK: normalising is idempotent (a key normalises to itself)', () => {
    fc.assert(
      fc.property(linkParts, fc.boolean(), (parts, www) => {
        const key = normalizeLink(build(parts, { www, scheme: 'http://', slash: true, tracking: [], reverse: false }));
        expect(normalizeLink(key)).toBe(key);
      }),
    );
  });
});

describe('validateLink', () => {
  it('R-ONE-ACTIVE-PER-LINK: accepts a bare "instagram.com/x" by assuming https', () => {
    expect(validateLink('instagram.com/x')).toEqual({ ok: true, normalized: 'https://instagram.com/x' });
  });

  it.each([
    ['', 'link is empty'],
    ['   ', 'link is empty'],
    ['not a link', 'link must not contain spaces'],
    ['https://insta gram.com/x', 'link must not contain spaces'],
    ['username', 'link has no valid host name'],
    ['https://localhost/x', 'link has no valid host name'],
    ['ftp://example.com/file', 'link must be an http or https URL, got ftp'],
    ['javascript:alert(1)', 'link is not a valid URL'],
    ['mailto:someone@example.com', 'link must not contain a user name or password'],
    ['https://user:pw@example.com/x', 'link must not contain a user name or password'],
    ['https://exa..mple.com/x', 'link'],
  ])('R-ONE-ACTIVE-PER-LINK: rejects %j with a clear message', (link, message) => {
    const check = validateLink(link);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toContain(message);
  });

  it('R-ONE-ACTIVE-PER-LINK: never throws, even for non-text input', () => {
    expect(validateLink(undefined as unknown as string)).toEqual({ ok: false, message: 'link must be text' });
    fc.assert(fc.property(fc.string(), (s) => { validateLink(s); }));
  });
});
