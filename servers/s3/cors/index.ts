/**
 * Public API of the pure S3 bucket-CORS engine (no HTTP inside).
 * Behaviour: /work/shared/reference/s3-cors-semantics.md.
 */
export type {
  ActualDecision,
  CorsConfiguration,
  CorsDocumentShape,
  CorsRequestFacts,
  CorsRule,
  HeaderList,
  ParseResult,
  PreflightDecision,
  PreflightRefusalReason,
  RuleEvaluation,
  RuleRef,
  S3ErrorInfo,
} from './types.js';
export { parseCorsConfiguration, detectCorsDocumentShape, MALFORMED_JSON_CODE } from './parse.js';
export { corsConfigurationToXml } from './xml.js';
export { decidePreflight, decideActual, describeDecision } from './decide.js';
export { compileCorsConfiguration, parseRequestHeaders } from './match.js';
export type { CompiledCorsConfiguration } from './match.js';
export { compileGlob, globMatches } from './glob.js';
export type { Glob, GlobOptions } from './glob.js';
export { MAX_RULES, MAX_DOCUMENT_BYTES, MAX_ID_LENGTH } from './validate.js';
export {
  CORS_METHODS,
  S3_XML_NAMESPACE,
  MSG_MALFORMED_XML,
  MSG_UNSUPPORTED_METHOD_PREFIX,
  MSG_TOO_MANY_RULES,
  MSG_ID_TOO_LONG,
  MSG_TOO_BIG,
  MSG_NO_ORIGIN,
  MSG_BUCKET_NOT_FOUND,
  MSG_CORS_NOT_ENABLED,
  MSG_NOT_ALLOWED,
  VARY_VALUE,
  msgOriginWildcards,
  msgHeaderWildcards,
  msgExposeWildcard,
  msgInvalidRequestMethod,
} from './messages.js';

import type { CorsConfiguration, S3ErrorInfo } from './types.js';
import { checkConfigurationStructure, checkConfigurationValues } from './validate.js';

/**
 * Validation only, for a configuration object already in hand (fixture data):
 * the same checks and answers as PutBucketCors of that configuration. The size
 * limit applies to the XML the CLI would send for it.
 */
export function validateCorsConfiguration(config: CorsConfiguration): S3ErrorInfo | undefined {
  return checkConfigurationStructure(config) ?? checkConfigurationValues(config);
}
