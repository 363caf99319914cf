/**
 * `import … from 'corsproof'`: the pieces of corsproof a program can use on its own — the S3 CORS
 * engine (parse and validate a configuration as PutBucketCors would, decide a preflight or an
 * actual request as S3 would), the bucket server and its record of every exchange, the reading of
 * an engine's CORS message, and which browser build runs. Playwright fixtures for your own tests
 * are in `corsproof/test`; the command line is `npx corsproof`.
 */
export {
  parseCorsConfiguration,
  validateCorsConfiguration,
  corsConfigurationToXml,
  decidePreflight,
  decideActual,
  type CorsConfiguration,
  type CorsRule,
  type CorsRequestFacts,
  type ParseResult,
  type PreflightDecision,
  type ActualDecision,
  type S3ErrorInfo,
} from '../servers/s3/cors/index.js';
export { startBucketServer, DEFAULT_CREDENTIALS, type BucketServer, type BucketServerOptions, type BucketStore } from '../servers/bucket/index.js';
export { ExchangeLog, type Exchange } from '../servers/exchange-log.js';
export { classify, REASON_TEXT, type Classification, type ReasonId } from '../harness/reasons.js';
export { chooseEngine, resolveEngine, describeBuild, type EngineBuild, type EngineChoice, type EngineMessage, type EngineName } from '../engines/index.js';
