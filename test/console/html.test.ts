// console/html.ts: every value is escaped unless it is a fragment built by html`` itself.
import { escapeHtml, html, safeHref } from '../../console/html';

describe('html`` escapes what it is given', () => {
  it('the XSS link renders as text: no tag, no attribute break-out', () => {
    const link = '"><img src=x onerror=alert(1)>';
    expect(html`<a title="${link}">${link}</a>`.text).toBe('<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</a>');
  });

  it("single quotes and ampersands too; nested fragments are kept, arrays joined, null/undefined/false empty", () => {
    expect(escapeHtml(`a&b'c`)).toBe('a&amp;b&#39;c');
    const items = ['<b>', 'x'].map((v) => html`<li>${v}</li>`);
    expect(html`<ul>${items}${null}${undefined}${false}${0}</ul>`.text).toBe('<ul><li>&lt;b&gt;</li><li>x</li>0</ul>');
  });

  it('links are links only for http(s): javascript: and data: URLs are shown as text', () => {
    expect(safeHref('https://instagram.com/x')).toBe('https://instagram.com/x');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref(' data:text/html,<script>')).toBeNull();
  });
});
