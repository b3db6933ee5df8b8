// Server-rendered HTML with escaping by default: html`<p>${value}</p>` escapes every value unless it
// is already Html (a fragment built by html`` itself). Arrays are joined; null, undefined and false
// render nothing. Attribute values must be quoted in the template ("${v}"): escaping covers & < > " '.
// Nothing user-controlled reaches the page without passing through escapeHtml.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** A link target only for http(s) URLs; anything else (javascript:, data:) is shown as text, never linked. */
export function safeHref(url: string): string | null {
  return /^https?:\/\//i.test(url) ? url : null;
}
