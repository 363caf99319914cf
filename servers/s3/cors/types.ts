/**
 * Types of the pure S3 bucket-CORS engine. No HTTP in here: the bucket server
 * turns an HTTP request into `CorsRequestFacts`, asks `decidePreflight` /
 * `decideActual`, and writes the returned headers (and, for refusals, the S3
 * `<Error>` body) itself.
 *
 * Behaviour spec: /work/shared/reference/s3-cors-semantics.md (cited as §n, [Sx]).
 */

/** One CORS rule, with the API / CLI member names (plural keys). */
export interface CorsRule {
  ID?: string;
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders?: string[];
  ExposeHeaders?: string[];
  MaxAgeSeconds?: number;
}

/** A bucket CORS configuration; keys, order and casing exactly as the user wrote them. */
export interface CorsConfiguration {
  CORSRules: CorsRule[];
}

/** Which of the three accepted document shapes a text was (§1.1). */
export type CorsDocumentShape = 'console-json' | 'cli-json' | 'xml';

/**
 * An S3 error as S3 would answer it. `code`, `message` and `extra` are wire data
 * (`extra` holds additional `<Error>` child elements such as `ArgumentName`).
 * `detail` is NOT wire data: a human explanation for corsproof's own output
 * (S3's MalformedXML message never says what is wrong; `detail` does).
 */
export interface S3ErrorInfo {
  status: number;
  code: string;
  message: string;
  ruleIndex?: number;
  ruleId?: string;
  extra?: Record<string, string>;
  /** Not sent by S3: a readable explanation (parser position, offending key, …). */
  detail?: string;
}

export type ParseResult =
  | { ok: true; config: CorsConfiguration; shape: CorsDocumentShape }
  | { ok: false; error: S3ErrorInfo };

export interface CorsRequestFacts {
  /** HTTP method as received. */
  method: string;
  /** Raw Origin header (undefined when absent). */
  origin?: string;
  /** Raw Access-Control-Request-Method header. */
  accessControlRequestMethod?: string;
  /** Raw Access-Control-Request-Headers header. */
  accessControlRequestHeaders?: string;
  bucketExists: boolean;
  /** undefined = the bucket has no CORS configuration. */
  config?: CorsConfiguration;
  /** Object key if the URL names one (decides ResourceType OBJECT vs BUCKET). */
  key?: string;
}

/** Response headers in the order S3 sends them, with canonical casing. */
export type HeaderList = Array<[name: string, value: string]>;

/** Which rule: its 0-based index in document order, and its ID when it has one. */
export interface RuleRef {
  index: number;
  id?: string;
}

/** How one rule fared against the request (for explain output and reports). */
export interface RuleEvaluation {
  rule: RuleRef;
  origin: boolean;
  method: boolean;
  headers: boolean;
  /** Requested header names (lowercased) that no AllowedHeader of this rule matched. */
  rejectedHeaders: string[];
}

export type PreflightRefusalReason = 'no-origin' | 'no-bucket' | 'no-config' | 'bad-request-method' | 'no-match';

export type PreflightDecision =
  | { kind: 'allowed'; status: 200; headers: HeaderList; rule: RuleRef; evaluations: RuleEvaluation[] }
  | {
      kind: 'refused';
      status: 400 | 403;
      code: string;
      message: string;
      method?: string;
      resourceType?: 'BUCKET' | 'OBJECT';
      reason: PreflightRefusalReason;
      evaluations: RuleEvaluation[];
    };

export interface ActualDecision {
  /** Set when a rule matched. */
  rule?: RuleRef;
  /** CORS headers to add to whatever the S3 operation answers (also on error responses); empty when no match. */
  headers: HeaderList;
  reason: 'matched' | 'no-origin' | 'no-bucket' | 'no-config' | 'no-match';
  evaluations: RuleEvaluation[];
}
