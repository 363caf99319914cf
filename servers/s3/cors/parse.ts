/**
 * Read a CORS document in any of its three shapes (§1.1), auto-detected:
 *   - S3 console JSON: a bare array of rules;
 *   - CLI / SDK JSON: `{"CORSRules": [...]}`;
 *   - PutBucketCors XML: `<CORSConfiguration><CORSRule>…`.
 * Then validate it exactly as PutBucketCors would (validate.ts).
 *
 * XML goes through fast-xml-parser (well-formedness check, then an
 * order-preserving parse); nothing here reads XML with regular expressions.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { formatJsonSyntaxError, locateJsonSyntaxError } from './json-error.js';
import { S3_XML_NAMESPACE, malformedXml } from './messages.js';
import type { CorsConfiguration, CorsDocumentShape, CorsRule, ParseResult, S3ErrorInfo } from './types.js';
import { checkConfigurationStructure, checkConfigurationValues, checkDocumentSize } from './validate.js';

/**
 * Code for JSON that does not parse. S3 never sees JSON — the CLI or console
 * refuses it before any request — so there is no S3 wire answer to copy.
 * UNVERIFIED choice: a distinct code `MalformedJSON` (400) whose message is the
 * CLI's own wording, "Invalid JSON: <reason>: line L column C (char P)", so the
 * position of the error is always quoted.
 */
export const MALFORMED_JSON_CODE = 'MalformedJSON';

export function parseCorsConfiguration(text: string | Buffer): ParseResult {
  try {
    return parseDocument(text);
  } catch (e) {
    // A document nested thousands of levels deep exhausts the stack somewhere in parsing or
    // validation; it cannot be a CORS configuration. UNVERIFIED choice: MalformedXML, as for any
    // document that does not fit the schema.
    if (e instanceof RangeError) return fail(malformedXml('the document is nested too deeply'));
    throw e;
  }
}

function parseDocument(text: string | Buffer): ParseResult {
  const bytes = typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.length;
  const s = withoutBom(typeof text === 'string' ? text : text.toString('utf8'));
  if (firstNonSpace(s) === undefined) {
    // UNVERIFIED choice: an empty document is MalformedXML (an empty PutBucketCors
    // body cannot validate against the schema; no capture of S3's answer).
    return fail(malformedXml('the document is empty'));
  }
  const shape = shapeOf(s);
  if (shape === 'xml') return parseXmlDocument(s, bytes);
  return parseJsonDocument(s, shape);
}

/**
 * The one shape detector (§1.1), used by the parser, `corsproof lint` and PutBucketCors: the first
 * character after a byte-order mark and XML/JSON white space decides — `<` PutBucketCors XML, `[`
 * the S3 console's bare array of rules, `{` the CLI/SDK's `{"CORSRules": [...]}`. Anything else
 * (an empty document, a JSON string or number, plain text) is no shape: undefined.
 */
export function detectCorsDocumentShape(text: string | Buffer): CorsDocumentShape | undefined {
  return shapeOf(withoutBom(typeof text === 'string' ? text : text.toString('utf8')));
}

function shapeOf(s: string): CorsDocumentShape | undefined {
  switch (firstNonSpace(s)) {
    case '<':
      return 'xml';
    case '[':
      return 'console-json';
    case '{':
      return 'cli-json';
    default:
      return undefined;
  }
}

const withoutBom = (s: string): string => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

/** White space as XML and JSON both define it: space, tab, LF, CR. */
function firstNonSpace(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return c;
  }
  return undefined;
}

const fail = (error: S3ErrorInfo): ParseResult => ({ ok: false, error });

// ---- JSON ---------------------------------------------------------------------------------------

function parseJsonDocument(s: string, shape: CorsDocumentShape | undefined): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch (e) {
    const where = locateJsonSyntaxError(s);
    const reason = where ? formatJsonSyntaxError(where) : String((e as Error).message);
    return fail({ status: 400, code: MALFORMED_JSON_CODE, message: `Invalid JSON: ${reason}` });
  }
  // JSON that parses is an array exactly when it starts with `[`, an object when with `{`.
  if (shape === undefined) {
    return fail(
      malformedXml(
        `expected a JSON array of rules (S3 console) or an object {"CORSRules": [...]} (CLI/SDK), got ${JSON.stringify(value)}`,
      ),
    );
  }
  const config: unknown = shape === 'console-json' ? { CORSRules: value } : value;
  const structural = checkConfigurationStructure(config);
  if (structural) return fail(structural);
  const valid = config as CorsConfiguration;
  // S3 would receive the XML the CLI/console serialises, so that is what is measured.
  const e = checkConfigurationValues(valid);
  return e ? fail(e) : { ok: true, config: valid, shape };
}

// ---- XML ----------------------------------------------------------------------------------------

type XNode = Record<string, unknown>;
type Element = { name: string; ns: string | undefined; children: XNode[]; scope: Map<string, string> };

class XmlContentError extends Error {}

/**
 * Entity decoding for fast-xml-parser: the five predefined XML entities and
 * numeric character references, in one pass (so `&amp;#10;` stays `&#10;`).
 * UNVERIFIED choice: entities declared in a DOCTYPE are not expanded — a
 * reference to one makes the document MalformedXML, as does any undefined
 * entity. S3's parser does not expand DTD entities (XXE hardening is standard on
 * AWS); no capture shows the exact answer.
 */
const entityDecoder = {
  setExternalEntities: (): void => {},
  addInputEntities: (): void => {},
  reset: (): void => {},
  setXmlVersion: (): void => {},
  decode(text: string): string {
    if (!text.includes('&')) return text;
    let out = '';
    let i = 0;
    for (;;) {
      const amp = text.indexOf('&', i);
      if (amp === -1) return out + text.slice(i);
      out += text.slice(i, amp);
      const semi = text.indexOf(';', amp);
      if (semi === -1) throw new XmlContentError(`unterminated entity reference at "${text.slice(amp, amp + 12)}"`);
      const name = text.slice(amp + 1, semi);
      out += decodeReference(name);
      i = semi + 1;
    }
  },
};

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

function decodeReference(name: string): string {
  const predefined = PREDEFINED[name];
  if (predefined !== undefined) return predefined;
  let cp: number = Number.NaN;
  if (/^#[0-9]+$/.test(name)) cp = Number.parseInt(name.slice(1), 10);
  else if (/^#x[0-9a-fA-F]+$/.test(name)) cp = Number.parseInt(name.slice(2), 16);
  else throw new XmlContentError(`undefined entity &${name};`);
  // XML 1.0 Char production.
  const ok =
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
  if (!ok) throw new XmlContentError(`character reference &${name}; is not a legal XML character`);
  return String.fromCodePoint(cp);
}

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  // xsd:string values keep their whitespace (XML Schema whiteSpace=preserve);
  // whitespace-only text between elements is skipped below.
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
  entityDecoder,
});

function parseXmlDocument(s: string, bytes: number): ParseResult {
  // Size first: S3 bounds the body before it parses it. [S6]
  const tooBig = checkDocumentSize(bytes);
  if (tooBig) return fail(tooBig);
  const wellFormed = XMLValidator.validate(s);
  if (wellFormed !== true) {
    const { msg, line, col } = wellFormed.err;
    return fail(malformedXml(`XML is not well-formed: ${msg} (line ${line}${col === undefined ? '' : `, column ${col}`})`));
  }
  let config: CorsConfiguration;
  try {
    const top = xmlParser.parse(s) as XNode[];
    config = xmlToConfiguration(top);
  } catch (e) {
    if (e instanceof XmlContentError) return fail(malformedXml(e.message));
    if (e instanceof RuleStructureError) return fail(malformedXml(e.message, e.ruleIndex, e.ruleId));
    return fail(malformedXml(`XML could not be parsed: ${(e as Error).message}`));
  }
  const e = checkConfigurationValues(config, bytes);
  return e ? fail(e) : { ok: true, config, shape: 'xml' };
}

class RuleStructureError extends Error {
  constructor(message: string, readonly ruleIndex: number, readonly ruleId?: string) {
    super(message);
  }
}

function nodeName(node: XNode): string | undefined {
  for (const k in node) if (k !== ':@') return k;
  return undefined;
}

/** Element children of a node's child list; throws on non-blank text mixed in. */
function elements(children: XNode[], parent: Element | undefined, where: string): Element[] {
  const out: Element[] = [];
  for (const child of children) {
    const name = nodeName(child);
    if (name === undefined) continue;
    if (name === '#text') {
      if (String(child['#text']).trim() !== '') throw new XmlContentError(`unexpected text ${JSON.stringify(child['#text'])} in ${where}`);
      continue;
    }
    out.push(resolveElement(child, name, parent));
  }
  return out;
}

function resolveElement(node: XNode, qname: string, parent: Element | undefined): Element {
  const scope = new Map(parent?.scope);
  const attrs = node[':@'] as Record<string, string> | undefined;
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (k === '@_xmlns') scope.set('', v);
      else if (k.startsWith('@_xmlns:')) scope.set(k.slice('@_xmlns:'.length), v);
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const local = colon === -1 ? qname : qname.slice(colon + 1);
  const ns = scope.get(prefix);
  if (prefix !== '' && ns === undefined) throw new XmlContentError(`namespace prefix "${prefix}" of <${qname}> is not declared`);
  return { name: local, ns: ns === '' ? undefined : ns, children: (node[qname] as XNode[]) ?? [], scope };
}

/** Text content of a leaf element; child elements are a schema error. */
function leafText(el: Element): string {
  let text = '';
  for (const child of el.children) {
    const name = nodeName(child);
    if (name === '#text') text += String(child['#text']);
    else if (name !== undefined) throw new XmlContentError(`<${el.name}> must contain text only, found <${name}>`);
  }
  return text;
}

/**
 * UNVERIFIED choice: elements must be unqualified or in S3's namespace
 * (http://s3.amazonaws.com/doc/2006-03-01/); anything else does not validate
 * against the schema and is MalformedXML.
 */
function checkNamespace(el: Element): void {
  if (el.ns !== undefined && el.ns !== S3_XML_NAMESPACE) {
    throw new XmlContentError(`<${el.name}> is in namespace "${el.ns}"; expected none or "${S3_XML_NAMESPACE}"`);
  }
}

const REPEATED: Record<string, keyof CorsRule> = {
  AllowedOrigin: 'AllowedOrigins',
  AllowedMethod: 'AllowedMethods',
  AllowedHeader: 'AllowedHeaders',
  ExposeHeader: 'ExposeHeaders',
};

function xmlToConfiguration(top: XNode[]): CorsConfiguration {
  const roots = elements(top, undefined, 'the document');
  if (roots.length !== 1) throw new XmlContentError(`expected one root element, found ${roots.length}`);
  const root = roots[0] as Element;
  checkNamespace(root);
  if (root.name !== 'CORSConfiguration') throw new XmlContentError(`the root element is <${root.name}>; expected <CORSConfiguration>`);
  const rules: CorsRule[] = [];
  for (const el of elements(root.children, root, '<CORSConfiguration>')) {
    checkNamespace(el);
    if (el.name !== 'CORSRule') throw new XmlContentError(`unexpected <${el.name}> in <CORSConfiguration>; only <CORSRule> is allowed`);
    rules.push(xmlToRule(el, rules.length));
  }
  // [S1 AWS-REC put-cors-exc-empty]
  if (rules.length === 0) throw new XmlContentError('<CORSConfiguration> has no <CORSRule>');
  return { CORSRules: rules };
}

function xmlToRule(ruleEl: Element, index: number): CorsRule {
  // Keys are added in the order their elements first appear ("as the user wrote them").
  const rule: Record<string, unknown> = {};
  const children = elements(ruleEl.children, ruleEl, `<CORSRule> #${index}`);
  const idEl = children.find((c) => c.name === 'ID');
  const id = idEl ? leafText(idEl) : undefined;
  const fail = (d: string): never => {
    throw new RuleStructureError(`rule #${index}: ${d}`, index, id);
  };
  for (const el of children) {
    checkNamespace(el);
    const text = leafText(el);
    const listKey = REPEATED[el.name];
    if (listKey !== undefined) {
      let list = rule[listKey] as string[] | undefined;
      if (!list) rule[listKey] = list = [];
      list.push(text);
    } else if (el.name === 'ID') {
      if ('ID' in rule) fail('<ID> appears more than once');
      rule['ID'] = text;
    } else if (el.name === 'MaxAgeSeconds') {
      if ('MaxAgeSeconds' in rule) fail('<MaxAgeSeconds> appears more than once');
      // xsd:int: surrounding whitespace collapses, value must fit 32 bits.
      const t = text.trim();
      const n = /^[+-]?[0-9]+$/.test(t) ? Number(t) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < -2147483648 || n > 2147483647) fail(`<MaxAgeSeconds> ${JSON.stringify(text)} is not a 32-bit integer`);
      rule['MaxAgeSeconds'] = n;
    } else {
      fail(`unexpected <${el.name}> in <CORSRule>`);
    }
  }
  // [S17 #1863][S11 putCors.js]: both lists are required by the schema.
  if (!rule['AllowedOrigins']) fail('<AllowedOrigin> is required (at least one)');
  if (!rule['AllowedMethods']) fail('<AllowedMethod> is required (at least one)');
  return rule as unknown as CorsRule;
}
