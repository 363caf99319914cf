/**
 * Micro-benchmark of the pure S3 CORS engine (servers/s3/cors).
 *   npx tsx bench/cors-engine.ts
 * Decides preflight and actual requests against a realistic 10-rule
 * configuration (exact, partial-wildcard and `*` origins; `*`, exact and
 * `x-amz-*` AllowedHeaders; ExposeHeaders; MaxAgeSeconds) on one core, with a
 * mix of requests that match early, match late (header fall-through) and miss.
 * Prints decisions/s per kind; the LAST line is one JSON object.
 * Goal: ≥ 100 000 decisions/s each.
 */
import {
  type ActualDecision,
  type CorsConfiguration,
  type PreflightDecision,
  type CorsRequestFacts,
  decideActual,
  decidePreflight,
  parseCorsConfiguration,
} from '../servers/s3/cors/index.js';

const CONFIG_JSON = JSON.stringify([
  { ID: 'app-uploads', AllowedOrigins: ['https://app.example.com', 'https://admin.example.com'], AllowedMethods: ['PUT', 'POST'], AllowedHeaders: ['content-type', 'content-md5', 'x-amz-*'], ExposeHeaders: ['ETag', 'x-amz-version-id'], MaxAgeSeconds: 3000 },
  { ID: 'preview-branches', AllowedOrigins: ['https://*.preview.example.com'], AllowedMethods: ['GET', 'HEAD', 'PUT'], AllowedHeaders: ['*'], MaxAgeSeconds: 600 },
  { ID: 'partners', AllowedOrigins: ['https://partner-a.test', 'https://partner-b.test', 'https://*.partner-c.test'], AllowedMethods: ['GET'], AllowedHeaders: ['authorization', 'range'] },
  { ID: 'local-dev', AllowedOrigins: ['http://localhost:*', 'http://127.0.0.1:*'], AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] },
  { ID: 'deletes', AllowedOrigins: ['https://admin.example.com'], AllowedMethods: ['DELETE'], AllowedHeaders: ['x-amz-mfa', 'x-amz-expected-bucket-owner'] },
  { ID: 'website', AllowedOrigins: ['http://www.example.com.s3-website-us-east-1.amazonaws.com'], AllowedMethods: ['GET', 'HEAD'] },
  { ID: 'cdn', AllowedOrigins: ['https://cdn*.example.net'], AllowedMethods: ['GET'], AllowedHeaders: ['range', 'if-*'], MaxAgeSeconds: 86400 },
  { ID: 'mobile', AllowedOrigins: ['capacitor://localhost', 'ionic://localhost'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type', 'x-amz-meta-*'] },
  { ID: 'metrics', AllowedOrigins: ['https://grafana.internal.example.com'], AllowedMethods: ['GET'], ExposeHeaders: ['x-amz-request-id', 'Content-Length'] },
  { ID: 'public-read', AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'], MaxAgeSeconds: 3600 },
]);

const parsed = parseCorsConfiguration(CONFIG_JSON);
if (!parsed.ok) throw new Error(`bench config does not parse: ${JSON.stringify(parsed.error)}`);
const config: CorsConfiguration = parsed.config;

const base = { bucketExists: true, config, key: 'photos/2024/cat.jpg' } as const;
const preflights: CorsRequestFacts[] = [
  { ...base, method: 'OPTIONS', origin: 'https://app.example.com', accessControlRequestMethod: 'PUT', accessControlRequestHeaders: 'content-type,x-amz-date,x-amz-content-sha256' },
  { ...base, method: 'OPTIONS', origin: 'https://pr-1234.preview.example.com', accessControlRequestMethod: 'PUT', accessControlRequestHeaders: 'content-type' },
  { ...base, method: 'OPTIONS', origin: 'http://localhost:5173', accessControlRequestMethod: 'DELETE', accessControlRequestHeaders: 'authorization' },
  { ...base, method: 'OPTIONS', origin: 'https://cdn3.example.net', accessControlRequestMethod: 'GET', accessControlRequestHeaders: 'range,if-none-match' },
  { ...base, method: 'OPTIONS', origin: 'https://evil.example.org', accessControlRequestMethod: 'GET', accessControlRequestHeaders: 'x-custom' },
  { ...base, method: 'OPTIONS', origin: 'https://random.site', accessControlRequestMethod: 'GET' },
  { ...base, method: 'OPTIONS', origin: 'capacitor://localhost', accessControlRequestMethod: 'PUT', accessControlRequestHeaders: 'content-type,x-amz-meta-owner' },
  { ...base, method: 'OPTIONS', origin: 'https://admin.example.com', accessControlRequestMethod: 'DELETE', accessControlRequestHeaders: 'x-amz-mfa' },
];
const actuals: CorsRequestFacts[] = [
  { ...base, method: 'GET', origin: 'https://app.example.com' },
  { ...base, method: 'PUT', origin: 'https://app.example.com' },
  { ...base, method: 'GET', origin: 'https://pr-7.preview.example.com' },
  { ...base, method: 'HEAD', origin: 'http://127.0.0.1:8080' },
  { ...base, method: 'GET', origin: 'https://random.site' },
  { ...base, method: 'POST', origin: 'https://random.site' },
  { ...base, method: 'GET' },
  { ...base, method: 'GET', origin: 'https://grafana.internal.example.com' },
];

let sink = 0;
function measure(label: string, facts: CorsRequestFacts[], decide: (f: CorsRequestFacts) => PreflightDecision | ActualDecision): number {
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const d = decide(facts[i % facts.length] as CorsRequestFacts);
      sink += 'headers' in d ? d.headers.length : d.evaluations.length;
    }
  };
  run(50_000); // warm-up
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const n = 200_000;
    const t0 = process.hrtime.bigint();
    run(n);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.max(best, n / seconds);
  }
  const perS = Math.round(best);
  console.log(`${label.padEnd(10)} ${perS.toLocaleString('en-US').padStart(12)} decisions/s  (${(1e6 / best).toFixed(2)} µs each, best of 5 × 200 000, ${facts.length} request shapes, ${config.CORSRules.length} rules)`);
  return perS;
}

console.log(`node ${process.version}, one core`);
const preflight = measure('preflight', preflights, decidePreflight);
const actual = measure('actual', actuals, decideActual);
if (sink === 0) console.log('(sink)');
console.log(JSON.stringify({ preflight_per_s: preflight, actual_per_s: actual }));
