/**
 * PutBucketCors document parsing and validation (reference §1), and the
 * GetBucketCors body. Each row names its source: [Sx LEVEL label].
 */
import { expect, test } from '@playwright/test';
import {
  type CorsConfiguration,
  type CorsRule,
  MSG_MALFORMED_XML,
  corsConfigurationToXml,
  detectCorsDocumentShape,
  parseCorsConfiguration,
  validateCorsConfiguration,
} from '../../servers/s3/cors/index.js';

const MALFORMED = { status: 400, code: 'MalformedXML', message: MSG_MALFORMED_XML };

function parsed(text: string | Buffer): CorsConfiguration {
  const r = parseCorsConfiguration(text);
  if (!r.ok) throw new Error(`expected the document to parse, got ${JSON.stringify(r.error)}`);
  return r.config;
}

function xmlDoc(...rules: string[]): string {
  return `<CORSConfiguration>${rules.map((r) => `<CORSRule>${r}</CORSRule>`).join('')}</CORSConfiguration>`;
}

// ---- The seed note's three console configurations (verbatim) -------------------------------------

const SEED_SPECIFIC = `[
  {
    "AllowedHeaders": ["*"],
    "AllowedMethods": ["GET"],
    "AllowedOrigins": [
      "http://my-bucket-html.s3-website-eu-west-1.amazonaws.com"
    ],
    "ExposeHeaders": []
  }
]`;
const SEED_ALL = `[
  {
    "AllowedHeaders": ["*"],
    "AllowedMethods": ["GET"],
    "AllowedOrigins": ["*"],
    "ExposeHeaders": []
  }
]`;
const SEED_FIX = `[
     {
       "AllowedHeaders": ["Authorization"],
       "AllowedMethods": ["GET"],
       "AllowedOrigins": [
         "http://my-bucket-html.s3-website-eu-west-1.amazonaws.com"
       ],
       "ExposeHeaders": [],
       "MaxAgeSeconds": 3000
     }
   ]`;

test.describe('the seed note configurations', () => {
  const rows: Array<{ title: string; text: string; rule: CorsRule }> = [
    {
      title: 'the specific-origin example parses in console shape', // [S4 AWS-DOC console JSON]
      text: SEED_SPECIFIC,
      rule: { AllowedHeaders: ['*'], AllowedMethods: ['GET'], AllowedOrigins: ['http://my-bucket-html.s3-website-eu-west-1.amazonaws.com'], ExposeHeaders: [] },
    },
    {
      title: 'the all-origins example parses in console shape', // [S4 AWS-DOC console JSON]
      text: SEED_ALL,
      rule: { AllowedHeaders: ['*'], AllowedMethods: ['GET'], AllowedOrigins: ['*'], ExposeHeaders: [] },
    },
    {
      title: 'the fixed example with MaxAgeSeconds parses in console shape', // [S4 AWS-DOC console JSON]
      text: SEED_FIX,
      rule: {
        AllowedHeaders: ['Authorization'],
        AllowedMethods: ['GET'],
        AllowedOrigins: ['http://my-bucket-html.s3-website-eu-west-1.amazonaws.com'],
        ExposeHeaders: [],
        MaxAgeSeconds: 3000,
      },
    },
  ];
  for (const row of rows) {
    test(`${row.title}`, () => {
      const r = parseCorsConfiguration(row.text);
      expect(r).toEqual({ ok: true, shape: 'console-json', config: { CORSRules: [row.rule] } });
      // Keys stay as the user wrote them, empty ExposeHeaders included.
      expect(Object.keys(parsed(row.text).CORSRules[0] as object)).toEqual(Object.keys(row.rule));
    });
  }
});

// ---- Shapes -------------------------------------------------------------------------------------

const RULES: CorsRule[] = [
  {
    ID: 'uploads',
    AllowedOrigins: ['https://app.example.com', 'http://*.example.com'],
    AllowedMethods: ['PUT', 'POST', 'GET'],
    AllowedHeaders: ['content-type', 'x-amz-*'],
    ExposeHeaders: ['ETag', 'x-amz-version-id'],
    MaxAgeSeconds: 3000,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
];
const RULES_XML = `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>uploads</ID>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedOrigin>http://*.example.com</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <AllowedHeader>x-amz-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>x-amz-version-id</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
  </CORSRule>
</CORSConfiguration>`;

test.describe('document shapes', () => {
  test('the CLI shape and the XML shape of one configuration give equal configurations', () => {
    // [S1 test bodies (CLI)][S4][S6 (XML)]
    const cli = parseCorsConfiguration(JSON.stringify({ CORSRules: RULES }));
    const xml = parseCorsConfiguration(RULES_XML);
    expect(cli).toEqual({ ok: true, shape: 'cli-json', config: { CORSRules: RULES } });
    expect(xml).toEqual({ ok: true, shape: 'xml', config: { CORSRules: RULES } });
  });

  test('the console shape of the same rules gives the same configuration', () => {
    expect(parseCorsConfiguration(JSON.stringify(RULES))).toEqual({ ok: true, shape: 'console-json', config: { CORSRules: RULES } });
  });

  test('XML element order inside a rule is free and the namespace is optional', () => {
    // [S4 "element order is free"; AWS samples omit the namespace]
    const shuffled = xmlDoc(
      '<MaxAgeSeconds>3000</MaxAgeSeconds><AllowedHeader>content-type</AllowedHeader><ExposeHeader>ETag</ExposeHeader><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://app.example.com</AllowedOrigin><ID>uploads</ID><AllowedMethod>POST</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedOrigin>http://*.example.com</AllowedOrigin><ExposeHeader>x-amz-version-id</ExposeHeader><AllowedMethod>GET</AllowedMethod>',
      '<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod>',
    );
    expect(parsed(shuffled)).toEqual({ CORSRules: RULES });
  });

  test('XML rule keys follow the order their elements first appear', () => {
    const c = parsed(xmlDoc('<AllowedMethod>GET</AllowedMethod><ID>x</ID><AllowedOrigin>*</AllowedOrigin>'));
    expect(Object.keys(c.CORSRules[0] as object)).toEqual(['AllowedMethods', 'ID', 'AllowedOrigins']);
  });

  test('an S3-namespace prefix on the elements is accepted', () => {
    const doc = `<s3:CORSConfiguration xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:CORSRule><s3:AllowedOrigin>*</s3:AllowedOrigin><s3:AllowedMethod>GET</s3:AllowedMethod></s3:CORSRule></s3:CORSConfiguration>`;
    expect(parsed(doc)).toEqual({ CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] });
  });

  test('a Buffer with a UTF-8 byte-order mark parses', () => {
    const buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SEED_ALL, 'utf8')]);
    expect(parseCorsConfiguration(buf)).toMatchObject({ ok: true, shape: 'console-json' });
  });

  test('the shape is told by the first character after a byte-order mark and white space, as the parser reads it', () => {
    const rows: Array<[string | Buffer, string | undefined]> = [
      ['<CORSConfiguration/>', 'xml'],
      [' \r\n\t[]', 'console-json'],
      ['\uFEFF{"CORSRules": []}', 'cli-json'],
      [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n<x/>')]), 'xml'],
      ['', undefined],
      ['   ', undefined],
      ['"CORSRules"', undefined],
      ['42', undefined],
      // Not XML/JSON white space: neither parser skips it, so neither does the detector.
      ['\u00a0[]', undefined],
      ['\f<CORSConfiguration/>', undefined],
    ];
    for (const [text, shape] of rows) {
      expect(detectCorsDocumentShape(text), JSON.stringify(String(text))).toBe(shape);
      const r = parseCorsConfiguration(text);
      if (r.ok) expect(r.shape, `the parser agrees on ${JSON.stringify(String(text))}`).toBe(shape);
    }
    expect(parseCorsConfiguration(SEED_ALL)).toMatchObject({ ok: true, shape: detectCorsDocumentShape(SEED_ALL) });
    expect(parseCorsConfiguration('{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}')).toMatchObject({ ok: true, shape: 'cli-json' });
  });

  test('XML string values keep their whitespace and decode entities and character references', () => {
    // xsd:string is whiteSpace=preserve; &amp; &lt; &#9; &#x41; are standard XML.
    const c = parsed(xmlDoc('<AllowedOrigin> a&amp;b&lt;&#9;&#x41; </AllowedOrigin><AllowedMethod>GET</AllowedMethod>'));
    expect(c.CORSRules[0]?.AllowedOrigins).toEqual([' a&b<\tA ']);
  });

  test('an XML MaxAgeSeconds is an integer with surrounding whitespace collapsed', () => {
    const c = parsed(xmlDoc('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds> 0042 </MaxAgeSeconds>'));
    expect(c.CORSRules[0]?.MaxAgeSeconds).toBe(42);
  });
});

// ---- Values S3 accepts --------------------------------------------------------------------------

test.describe('values S3 accepts as they are', () => {
  const rows: Array<{ title: string; rule: CorsRule }> = [
    // [S1 AWS-REC test_put_cors_empty_origin]
    { title: 'an empty AllowedOrigin is accepted', rule: { AllowedOrigins: [''], AllowedMethods: ['GET', 'PUT', 'HEAD'] } },
    // [S1 AWS-REC test_put_cors] stored as sent, no URL validation
    { title: 'origins with explicit ports are stored verbatim', rule: { AllowedOrigins: ['https://test.com', 'https://app.test.com', 'http://test.com:80'], AllowedMethods: ['GET', 'PUT', 'HEAD'] } },
    // [S1 INFERRED] no URL validation
    { title: 'a configured trailing-slash origin is accepted', rule: { AllowedOrigins: ['https://example.com/', 'localhost'], AllowedMethods: ['GET'] } },
    // [S18 minio#15874]
    { title: 'one rule holding both * and a specific origin is accepted', rule: { AllowedOrigins: ['*', 'https://a.example'], AllowedMethods: ['GET'] } },
    // [boto3#2972 via §1.2] ExposeHeader names are not checked against a registry
    { title: 'an ExposeHeader that is not a real header name is accepted', rule: { AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['GET'] } },
    // [S4] one * per AllowedHeader / AllowedOrigin is fine
    { title: 'one wildcard per AllowedOrigin and AllowedHeader is accepted', rule: { AllowedOrigins: ['http://*.example.com'], AllowedMethods: ['GET'], AllowedHeaders: ['x-amz-*', '*'] } },
    // UNVERIFIED choice (validate.ts): 0 is a valid MaxAgeSeconds
    { title: 'MaxAgeSeconds 0 is accepted', rule: { AllowedOrigins: ['*'], AllowedMethods: ['GET'], MaxAgeSeconds: 0 } },
    // [S6] ID up to 255 characters
    { title: 'an ID of exactly 255 characters is accepted', rule: { ID: 'i'.repeat(255), AllowedOrigins: ['*'], AllowedMethods: ['GET'] } },
  ];
  for (const row of rows) {
    test(row.title, () => {
      expect(parseCorsConfiguration(JSON.stringify({ CORSRules: [row.rule] }))).toEqual({ ok: true, shape: 'cli-json', config: { CORSRules: [row.rule] } });
      expect(validateCorsConfiguration({ CORSRules: [row.rule] })).toBeUndefined();
    });
  }

  test('all five methods are accepted', () => {
    // [S4][S6]
    expect(validateCorsConfiguration({ CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] }] })).toBeUndefined();
  });

  test('exactly 100 rules are accepted', () => {
    // [S4][S6] AWS-DOC
    const rules = Array.from({ length: 100 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }));
    expect(validateCorsConfiguration({ CORSRules: rules })).toBeUndefined();
  });

  test('duplicate rule IDs are accepted', () => {
    // UNVERIFIED choice (validate.ts): no uniqueness rule is documented for CORS IDs.
    const rules = [
      { ID: 'same', AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
      { ID: 'same', AllowedOrigins: ['*'], AllowedMethods: ['PUT'] },
    ];
    expect(validateCorsConfiguration({ CORSRules: rules })).toBeUndefined();
  });
});

// ---- Validation errors --------------------------------------------------------------------------

const bigOrigins = (n: number): string[] => Array.from({ length: n }, (_, i) => `https://host-${String(i).padStart(6, '0')}.example.com`);

test.describe('PutBucketCors validation errors', () => {
  type Row = { title: string; doc: string; error: Record<string, unknown> };
  const rule = (r: Record<string, unknown>): string => JSON.stringify({ CORSRules: [r] });
  const rows: Row[] = [
    // [S1 AWS-REC put-cors-exc-empty]
    { title: 'an empty CORSRules list is MalformedXML', doc: '{"CORSRules": []}', error: MALFORMED },
    { title: 'an empty console array is MalformedXML', doc: '[]', error: MALFORMED },
    { title: 'a CORSConfiguration without CORSRule is MalformedXML', doc: '<CORSConfiguration></CORSConfiguration>', error: MALFORMED },
    { title: 'a JSON object without CORSRules is MalformedXML', doc: '{}', error: MALFORMED },
    // [S18 aws-sdk-js#123, #701][S17 #1863][S11 putCors.js]
    { title: 'a JSON rule without AllowedOrigins is MalformedXML', doc: rule({ AllowedMethods: ['GET'] }), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'a JSON rule without AllowedMethods is MalformedXML', doc: rule({ AllowedOrigins: ['*'] }), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'an empty AllowedOrigins list is MalformedXML', doc: rule({ AllowedOrigins: [], AllowedMethods: ['GET'] }), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'an XML rule without AllowedOrigin is MalformedXML', doc: xmlDoc('<AllowedMethod>GET</AllowedMethod>'), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'an XML rule without AllowedMethod is MalformedXML', doc: xmlDoc('<AllowedOrigin>*</AllowedOrigin>'), error: { ...MALFORMED, ruleIndex: 0 } },
    // S3 schema: well-formedness and element names
    { title: 'XML that is not well-formed is MalformedXML', doc: '<CORSConfiguration><CORSRule></CORSConfiguration>', error: MALFORMED },
    { title: 'a root element other than CORSConfiguration is MalformedXML', doc: '<CorsConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CorsConfiguration>', error: MALFORMED },
    { title: 'an unknown element in a rule is MalformedXML', doc: xmlDoc('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedOrigins>x</AllowedOrigins>'), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'two MaxAgeSeconds in one rule are MalformedXML', doc: xmlDoc('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>'), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'a non-integer XML MaxAgeSeconds is MalformedXML', doc: xmlDoc('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1.5</MaxAgeSeconds>'), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'a non-integer JSON MaxAgeSeconds is MalformedXML', doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], MaxAgeSeconds: '3000' }), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'a MaxAgeSeconds beyond 32 bits is MalformedXML', doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], MaxAgeSeconds: 2147483648 }), error: { ...MALFORMED, ruleIndex: 0 } },
    { title: 'a string where a list belongs is MalformedXML', doc: rule({ AllowedOrigins: '*', AllowedMethods: ['GET'] }), error: { ...MALFORMED, ruleIndex: 0 } },
    // [S1 AWS-REC put-cors-exc] the recorded request, verbatim
    {
      title: 'an unsupported method is InvalidRequest naming the method',
      doc: rule({ AllowedOrigins: ['*', 'https://test.com'], AllowedMethods: ['GET', 'PUT', 'HEAD', 'MYMETHOD'] }),
      error: { status: 400, code: 'InvalidRequest', message: 'Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD', ruleIndex: 0 },
    },
    // [S11 putCors.js] uppercase only
    {
      title: 'a lowercase method is InvalidRequest',
      doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['get'] }),
      error: { status: 400, code: 'InvalidRequest', message: 'Found unsupported HTTP method in CORS config. Unsupported method is get' },
    },
    // [S17 #1863 AWS-OBS] the message ends in "is " and nothing
    {
      title: 'an empty AllowedMethod is InvalidRequest with an empty method',
      doc: xmlDoc('<AllowedOrigin>*</AllowedOrigin><AllowedMethod/>'),
      error: { status: 400, code: 'InvalidRequest', message: 'Found unsupported HTTP method in CORS config. Unsupported method is ' },
    },
    // [S4][S6] OPTIONS is not allowed; [S15 cors-invalid1.xml] nor is *
    {
      title: 'OPTIONS as an AllowedMethod is InvalidRequest',
      doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['OPTIONS'] }),
      error: { code: 'InvalidRequest', message: 'Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS' },
    },
    {
      title: 'a * AllowedMethod is InvalidRequest',
      doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['*'] }),
      error: { code: 'InvalidRequest', message: 'Found unsupported HTTP method in CORS config. Unsupported method is *' },
    },
    // [S17 #1870 AWS-OBS]
    {
      title: 'an AllowedOrigin with two wildcards is InvalidRequest quoting the value',
      doc: rule({ AllowedOrigins: ['*example*.com'], AllowedMethods: ['GET'] }),
      error: { status: 400, code: 'InvalidRequest', message: 'AllowedOrigin "*example*.com" can not have more than one wildcard.' },
    },
    // [S11 putCors.js][S16 5ea9505c3] CONSENSUS
    {
      title: 'an AllowedHeader with two wildcards is InvalidRequest quoting the value',
      doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] }),
      error: { status: 400, code: 'InvalidRequest', message: 'AllowedHeader "x-*-*" can not have more than one wildcard.' },
    },
    // [S18 neuroglancer#788, noobaa#8954] AWS-OBS
    {
      title: 'an ExposeHeader with a wildcard is InvalidRequest',
      doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['x-amz-meta-*'] }),
      error: { status: 400, code: 'InvalidRequest', message: 'ExposeHeader "x-amz-meta-*" contains wildcard. We currently do not support wildcard for ExposeHeader.' },
    },
    {
      title: 'an ExposeHeader of * alone is InvalidRequest',
      doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['*'] }),
      error: { code: 'InvalidRequest', message: 'ExposeHeader "*" contains wildcard. We currently do not support wildcard for ExposeHeader.' },
    },
    // UNVERIFIED choice (validate.ts): InvalidRequest with Scality's text [S11][S12][S16]
    {
      title: 'more than 100 rules is InvalidRequest',
      doc: JSON.stringify(Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }))),
      error: { status: 400, code: 'InvalidRequest', message: 'The number of CORS rules should not exceed allowed limit of 100 rules.' },
    },
    // UNVERIFIED choice (validate.ts): lifecycle's InvalidArgument wording for the same limit
    {
      title: 'an ID longer than 255 characters is InvalidArgument',
      doc: rule({ ID: 'i'.repeat(256), AllowedOrigins: ['*'], AllowedMethods: ['GET'] }),
      error: {
        status: 400,
        code: 'InvalidArgument',
        message: 'ID length should not exceed allowed limit of 255',
        extra: { ArgumentName: 'ID', ArgumentValue: 'i'.repeat(256) },
        ruleIndex: 0,
        ruleId: 'i'.repeat(256),
      },
    },
    // UNVERIFIED choice (validate.ts): MalformedXML, as Scality [S12]
    { title: 'a negative MaxAgeSeconds is MalformedXML', doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], MaxAgeSeconds: -1 }), error: { ...MALFORMED, ruleIndex: 0 } },
    // UNVERIFIED choice (parse.ts): the empty document
    { title: 'an empty document is MalformedXML', doc: '  \n', error: MALFORMED },
    // UNVERIFIED choice (validate.ts): unknown JSON keys are refused, as the CLI does
    { title: "CloudFormation's ExposedHeaders key is MalformedXML", doc: rule({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposedHeaders: ['ETag'] }), error: { ...MALFORMED, ruleIndex: 0 } },
    // UNVERIFIED choice (parse.ts): only S3's namespace or none
    { title: 'a foreign XML namespace is MalformedXML', doc: '<CORSConfiguration xmlns="urn:other"><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>', error: MALFORMED },
    // UNVERIFIED choice (parse.ts): DTD entities are not expanded
    {
      title: 'a DTD-declared entity is MalformedXML',
      doc: '<!DOCTYPE CORSConfiguration [<!ENTITY o "https://a.example">]><CORSConfiguration><CORSRule><AllowedOrigin>&o;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
      error: MALFORMED,
    },
    { title: 'two root elements are MalformedXML', doc: '<CORSConfiguration/><CORSConfiguration/>', error: MALFORMED },
    { title: 'a JSON string is not a configuration', doc: '"CORSRules"', error: MALFORMED },
  ];
  for (const row of rows) {
    test(row.title, () => {
      const r = parseCorsConfiguration(row.doc);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject(row.error);
    });
  }

  test('the MalformedXML error explains itself in detail without changing the wire message', () => {
    const r = parseCorsConfiguration('[{"allowedOrigins": ["*"], "AllowedMethods": ["GET"]}]');
    expect(r).toEqual({
      ok: false,
      error: { ...MALFORMED, ruleIndex: 0, detail: 'rule #0: unknown key "allowedOrigins" (did you mean "AllowedOrigins"?)' },
    });
  });

  test('the XML parser position is reported in the detail of a not-well-formed document', () => {
    const r = parseCorsConfiguration('<CORSConfiguration>\n<CORSRule>\n</CORSConfiguration>');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.detail).toMatch(/line 3/);
  });

  // UNVERIFIED choice (validate.ts): MaxMessageLengthExceeded for > 64 KB.
  test('an XML document of exactly 64 KB is accepted and one byte more is refused', () => {
    const head = '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>';
    const tail = '</AllowedOrigin></CORSRule></CORSConfiguration>';
    const fill = 'a'.repeat(64 * 1024 - head.length - tail.length);
    expect(parseCorsConfiguration(head + fill + tail)).toMatchObject({ ok: true });
    expect(parseCorsConfiguration(head + fill + 'a' + tail)).toEqual({
      ok: false,
      error: { status: 400, code: 'MaxMessageLengthExceeded', message: 'Your request was too big.', detail: 'the PutBucketCors document is 65537 bytes; the limit is 65536' },
    });
  });

  test('a JSON document is measured as the XML the CLI would send', () => {
    // UNVERIFIED choice (validate.ts): S3 never sees the JSON, only the XML.
    const config = { CORSRules: [{ AllowedOrigins: bigOrigins(1500), AllowedMethods: ['GET'] }] };
    expect(Buffer.byteLength(JSON.stringify(config))).toBeLessThan(64 * 1024);
    expect(Buffer.byteLength(corsConfigurationToXml(config))).toBeGreaterThan(64 * 1024);
    expect(parseCorsConfiguration(JSON.stringify(config))).toMatchObject({ ok: false, error: { code: 'MaxMessageLengthExceeded' } });
  });
});

test.describe('which error wins when several rules are invalid', () => {
  // [S16 5ea9505c3 "multiple invalid rules picks first one"] CONSENSUS
  test('the first invalid rule in document order decides', () => {
    const badOrigin = { AllowedOrigins: ['*a*'], AllowedMethods: ['GET'] };
    const badMethod = { AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] };
    expect(validateCorsConfiguration({ CORSRules: [badOrigin, badMethod] })).toMatchObject({ message: 'AllowedOrigin "*a*" can not have more than one wildcard.', ruleIndex: 0 });
    expect(validateCorsConfiguration({ CORSRules: [badMethod, badOrigin] })).toMatchObject({ message: 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH', ruleIndex: 0 });
  });

  test('the error names the index and ID of the offending rule', () => {
    const ok = { AllowedOrigins: ['*'], AllowedMethods: ['GET'] };
    const bad = { ID: 'second', AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['*'] };
    expect(validateCorsConfiguration({ CORSRules: [ok, bad] })).toMatchObject({ ruleIndex: 1, ruleId: 'second' });
  });

  test('within one rule, a bad method is reported before a bad origin', () => {
    // UNVERIFIED choice (validate.ts): Scality's order [S12].
    const both = { AllowedOrigins: ['*a*'], AllowedMethods: ['get'], ExposeHeaders: ['*'] };
    expect(validateCorsConfiguration({ CORSRules: [both] })).toMatchObject({ message: 'Found unsupported HTTP method in CORS config. Unsupported method is get' });
  });

  test('a schema error in a later rule beats a value error in an earlier rule', () => {
    // UNVERIFIED choice (validate.ts): schema validation precedes rule semantics.
    const doc = xmlDoc('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>', '<AllowedMethod>GET</AllowedMethod>');
    expect(parseCorsConfiguration(doc)).toMatchObject({ ok: false, error: { code: 'MalformedXML', ruleIndex: 1 } });
  });

  test('the rule count is checked before rule values', () => {
    // UNVERIFIED choice (validate.ts), as Scality [S12].
    const rules = Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }));
    expect(validateCorsConfiguration({ CORSRules: rules })).toMatchObject({ code: 'InvalidRequest', message: 'The number of CORS rules should not exceed allowed limit of 100 rules.' });
  });
});

test.describe('JSON that does not parse', () => {
  // UNVERIFIED choice (parse.ts): code MalformedJSON; the message is the AWS CLI's
  // own ("Invalid JSON: …", Python json wording and position).
  const rows = [
    { title: 'a trailing comma is reported with its position', doc: '[{"AllowedOrigins": ["*"],}]', message: 'Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 27 (char 26)' },
    { title: 'a missing comma is reported on its line and column', doc: '[\n  {\n    "AllowedMethods": ["GET"]\n    "AllowedOrigins": ["*"]\n  }\n]', message: "Invalid JSON: Expecting ',' delimiter: line 4 column 5 (char 40)" },
    { title: 'an unterminated string is reported where it starts', doc: '[{"a": "b', message: 'Invalid JSON: Unterminated string starting at: line 1 column 8 (char 7)' },
    { title: 'trailing text after the document is reported', doc: '[] x', message: 'Invalid JSON: Extra data: line 1 column 4 (char 3)' },
    { title: 'a missing colon is reported', doc: '{"CORSRules" []}', message: "Invalid JSON: Expecting ':' delimiter: line 1 column 14 (char 13)" },
    { title: 'an unquoted key is reported', doc: '{CORSRules: []}', message: 'Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)' },
  ];
  for (const row of rows) {
    test(row.title, () => {
      expect(parseCorsConfiguration(row.doc)).toEqual({ ok: false, error: { status: 400, code: 'MalformedJSON', message: row.message } });
    });
  }
});

test.describe('validateCorsConfiguration on objects in hand', () => {
  test('it answers exactly as parsing the same configuration would', () => {
    const configs: unknown[] = [
      { CORSRules: [] },
      { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['MYMETHOD'] }] },
      { CORSRules: [{ AllowedOrigins: ['a*b*c'], AllowedMethods: ['GET'] }] },
      { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['x-*'] }] },
    ];
    for (const c of configs) {
      const r = parseCorsConfiguration(JSON.stringify(c));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(validateCorsConfiguration(c as CorsConfiguration)).toEqual(r.error);
    }
  });

  test('it refuses values of the wrong type', () => {
    const c = { CORSRules: [{ AllowedOrigins: [42], AllowedMethods: ['GET'] }] } as unknown as CorsConfiguration;
    expect(validateCorsConfiguration(c)).toMatchObject({ ...MALFORMED, ruleIndex: 0 });
  });
});

// ---- GetBucketCors ------------------------------------------------------------------------------

test.describe('GetBucketCors body', () => {
  test('the XML has a fixed element order and only the members that were set', () => {
    // [S1 AWS-REC get-cors-after-set: no defaults added]; element order is an
    // UNVERIFIED choice (xml.ts): the API model's member order.
    const config: CorsConfiguration = {
      CORSRules: [
        { MaxAgeSeconds: 3000, AllowedOrigins: ['https://a.example'], ExposeHeaders: ['ETag'], AllowedMethods: ['GET', 'PUT'], ID: 'r1', AllowedHeaders: ['*'] },
        { AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: [] },
      ],
    };
    expect(corsConfigurationToXml(config)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<CORSRule><ID>r1</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>' +
        '<AllowedOrigin>https://a.example</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>' +
        '<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>' +
        '</CORSConfiguration>',
    );
  });

  test('XML round-trips: parsing the GetBucketCors body gives the configuration back', () => {
    // [S1 AWS-REC get-bucket-cors-casing: case and list order kept]
    const config: CorsConfiguration = {
      CORSRules: [
        ...RULES,
        { ID: 'odd <values> & "quotes"', AllowedOrigins: ['', 'https://x.example/?a=1&b=2', ' spaced\tout\r\nline '], AllowedMethods: ['DELETE'], AllowedHeaders: ['x-AMZ-server-SIDE-encryption'], MaxAgeSeconds: 0 },
      ],
    };
    const back = parseCorsConfiguration(corsConfigurationToXml(config));
    expect(back).toEqual({ ok: true, shape: 'xml', config });
  });

  test('the three seed configurations round-trip through XML apart from their empty lists', () => {
    for (const text of [SEED_SPECIFIC, SEED_ALL, SEED_FIX]) {
      const c = parsed(text);
      const withoutEmpty = { CORSRules: c.CORSRules.map(({ ExposeHeaders, ...rest }) => (ExposeHeaders?.length ? { ...rest, ExposeHeaders } : rest)) };
      expect(parsed(corsConfigurationToXml(c))).toEqual(withoutEmpty);
    }
  });
});
