/**
 * GetBucketCors body: the stored configuration as S3 XML.
 *
 * S3 returns only the members that were set, keeping list order and case
 * [S1 AWS-REC get-cors-after-set, get-bucket-cors-casing]; empty lists produce no
 * element (there is no XML for "an empty list").
 *
 * UNVERIFIED choice: element order inside <CORSRule> is the API model's member
 * order (ID, AllowedHeader, AllowedMethod, AllowedOrigin, ExposeHeader,
 * MaxAgeSeconds), whatever order the PUT used. Reason: S3 serialises from its
 * model, and every AWS recording we have is parsed (order-free) by boto. The
 * body starts with the XML declaration S3 puts on its XML responses.
 */
import { S3_XML_NAMESPACE } from './messages.js';
import type { CorsConfiguration } from './types.js';

export function corsConfigurationToXml(config: CorsConfiguration): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="${S3_XML_NAMESPACE}">`;
  for (const rule of config.CORSRules) {
    out += '<CORSRule>';
    if (rule.ID !== undefined) out += element('ID', rule.ID);
    for (const v of rule.AllowedHeaders ?? []) out += element('AllowedHeader', v);
    for (const v of rule.AllowedMethods) out += element('AllowedMethod', v);
    for (const v of rule.AllowedOrigins) out += element('AllowedOrigin', v);
    for (const v of rule.ExposeHeaders ?? []) out += element('ExposeHeader', v);
    if (rule.MaxAgeSeconds !== undefined) out += element('MaxAgeSeconds', String(rule.MaxAgeSeconds));
    out += '</CORSRule>';
  }
  return `${out}</CORSConfiguration>`;
}

function element(name: string, text: string): string {
  return `<${name}>${escapeXmlText(text)}</${name}>`;
}

/**
 * Escapes markup characters, and CR as a reference: a parser turns a raw CR or
 * CRLF into LF (XML 1.0 §2.11), so only `&#13;` survives a re-parse verbatim.
 */
export function escapeXmlText(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => XML_ESCAPES[c] ?? c);
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
};
