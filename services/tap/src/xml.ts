// XML text for the service's documents (UWS, VOSI, VOTable errors): escaping and a tiny element builder.

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** Text content: only &, < and > need escaping there. */
export function escText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** `<name attrs>text</name>`, or `<name attrs/>` when text is undefined; text is escaped. */
export function el(
  name: string,
  text?: string,
  attrs: Readonly<Record<string, string | undefined>> = {},
): string {
  const a = Object.entries(attrs)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  return text === undefined ? `<${name}${a}/>` : `<${name}${a}>${escText(text)}</${name}>`;
}

export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** A DALI error document: a VOTable with `INFO name="QUERY_STATUS" value="ERROR"` holding the message. */
export function votableError(message: string): string {
  return (
    XML_DECL +
    '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n' +
    '<RESOURCE type="results">\n' +
    el('INFO', message, { name: 'QUERY_STATUS', value: 'ERROR' }) +
    '\n</RESOURCE>\n</VOTABLE>\n'
  );
}
