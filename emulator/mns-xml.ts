/**
 * MNS's XML wire format, as far as the queue actions need it: answers are one root element in
 * the `http://mns.aliyuncs.com/doc/v1/` namespace with one child per field (a batch nests one
 * element per message), errors are `<Error>` with Code, Message, RequestId and HostId, and a
 * SendMessage request carries `<Message><MessageBody>…</MessageBody>…</Message>`.
 *
 * @module
 */

const NAMESPACE = 'http://mns.aliyuncs.com/doc/v1/';
const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };

export type XmlFields = Record<string, string | number>;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (entity) => {
    if (entity.startsWith('&#x')) return String.fromCodePoint(parseInt(entity.slice(3, -1), 16));
    if (entity.startsWith('&#')) return String.fromCodePoint(Number(entity.slice(2, -1)));
    return ENTITIES[entity]!;
  });
}

function fieldsXml(fields: XmlFields): string {
  return Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`)
    .join('');
}

/** `<root xmlns=…>` with one element per field. */
export function xmlDocument(root: string, fields: XmlFields): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NAMESPACE}">${fieldsXml(fields)}</${root}>`;
}

/** `<root xmlns=…>` with one `<item>` element per entry (BatchReceiveMessage: `Messages` of `Message`). */
export function xmlList(root: string, item: string, entries: readonly XmlFields[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NAMESPACE}">${entries.map((fields) => `<${item}>${fieldsXml(fields)}</${item}>`).join('')}</${root}>`;
}

export function errorXml(code: string, message: string, requestId: string, hostId: string): string {
  return xmlDocument('Error', { Code: code, Message: message, RequestId: requestId, HostId: hostId });
}

/** A simple element's text, unescaped (CDATA kept as is); undefined when absent. */
export function elementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  if (match === null) return undefined;
  const text = match[1]!;
  const cdata = /^<!\[CDATA\[([\s\S]*)\]\]>$/.exec(text);
  return cdata ? cdata[1] : unescapeXml(text);
}
