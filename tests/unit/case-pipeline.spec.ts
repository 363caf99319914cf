/**
 * The case pipeline (harness/case.ts CasePipeline) and the matrix suite's batch sizes.
 *
 * The pipeline's promise: the page runs batches one after the other and never two at once;
 * against corsproof's bucket server a batch is ready (its buckets configured, its objects stored)
 * before the page finishes the batch in front of it, and the page starts the next batch before the
 * evidence of the one before is gathered; a batch that fails does not stop the ones behind it.
 * The bucket server and its store are real; the engine is a stand-in that records what its page
 * was asked to do and when (what a real engine does with a batch is tests/browser's business).
 */
import { test, expect } from '@playwright/test';
import { CasePipeline, nextBatchSize, type CaseContext, type CaseRequest } from '../../harness/case.js';
import { loadFixtures, loadScenarios } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { localTarget } from '../../harness/target.js';
import { startBucketServer, type BucketServer } from '../../servers/bucket/index.js';
import { ExchangeLog } from '../../servers/exchange-log.js';
import type { CaseRun, CaseSpec, EngineBuild, EngineSession } from '../../engines/types.js';

/** An engine whose page takes `pageMs` per batch and notes what it saw. */
class RecordingEngine implements EngineSession {
  readonly build: EngineBuild = { engine: 'chromium', product: 'stand-in', version: '0', path: '/dev/null', source: 'system', driver: 'playwright' };
  readonly events: string[] = [];
  private running = 0;
  overlapped = false;
  failBatch: number | undefined;
  private batches = 0;

  constructor(
    private readonly server: BucketServer,
    private readonly pageMs: number,
  ) {}

  async runBatch(specs: readonly CaseSpec[], _timeoutMs: number): Promise<CaseRun[]> {
    const n = ++this.batches;
    if (this.running++) this.overlapped = true;
    this.events.push(`page ${n} start`);
    await new Promise((r) => setTimeout(r, this.pageMs));
    // What the store holds while the page is still on this batch: every queued case's bucket.
    this.events.push(`page ${n} end, buckets ${this.server.store.bucketNames().length}`);
    this.running--;
    if (n === this.failBatch) throw new Error(`page ${n} stopped answering`);
    return specs.map((s) => ({ result: { caseId: s.caseId, steps: [{ settled: 'response', status: 200, durationMs: 1 }], userAgent: 'stand-in' }, messages: [] }));
  }

  run(spec: CaseSpec, timeoutMs: number): Promise<CaseRun> {
    return this.runBatch([spec], timeoutMs).then((r) => r[0]!);
  }
  visit(): never {
    throw new Error('not used');
  }
  async close(): Promise<void> {}
}

async function setup(pageMs: number) {
  const log = new ExchangeLog();
  const server = await startBucketServer({ log, anonymousAccess: 'open' });
  const origins = makeOrigins(8080, server.port);
  const engine = new RecordingEngine(server, pageMs);
  const ctx: CaseContext = { engine, target: localTarget(server, origins.BUCKET_ORIGIN), log, origins };
  const fixture = loadFixtures().find((f) => f.id === 'allow-all-origins')!;
  const scenarios = loadScenarios().filter((s) => s.steps[0]?.kind !== 'flow');
  let n = 0;
  const requests = (count: number): CaseRequest[] => scenarios.slice(0, count).map((scenario) => ({ fixture, scenario, caseId: `pipeline.${scenario.id}.${++n}` }));
  return { server, engine, ctx, requests };
}

test('the page runs queued batches back to back, each prepared before the page reaches it, and the buckets go afterwards', async () => {
  const { server, engine, ctx, requests } = await setup(50);
  try {
    const pipeline = new CasePipeline(ctx, 15_000);
    const first = requests(3);
    const second = requests(2);
    const a = pipeline.run(first);
    const b = pipeline.run(second);
    const [ea, eb] = await Promise.all([a, b]);
    expect(engine.overlapped, 'two batches in the page at once').toBe(false);
    // While the page ran the first batch, the second batch's buckets were already there (3 + 2).
    expect(engine.events).toEqual(['page 1 start', 'page 1 end, buckets 5', 'page 2 start', 'page 2 end, buckets 2']);
    expect(ea.map((e) => e.caseId)).toEqual(first.map((r) => r.caseId));
    expect(eb.map((e) => e.scenario)).toEqual(second.map((r) => r.scenario.id));
    expect(ea.every((e) => e.observed === 'allowed')).toBe(true);
    // Each case's bucket is gone once its evidence is gathered.
    expect(server.store.bucketNames()).toEqual([]);
  } finally {
    await server.close();
  }
});

test('a batch whose page stops answering fails alone: the batch behind it runs, and no bucket is left', async () => {
  const { server, engine, ctx, requests } = await setup(20);
  try {
    engine.failBatch = 1;
    const pipeline = new CasePipeline(ctx, 15_000);
    const a = pipeline.run(requests(2));
    const b = pipeline.run(requests(2));
    await expect(a).rejects.toThrow('page 1 stopped answering');
    expect((await b).map((e) => e.observed)).toEqual(['allowed', 'allowed']);
    expect(server.store.bucketNames()).toEqual([]);
  } finally {
    await server.close();
  }
});

test('batch sizes double from two, then halve towards the end of the group, covering it exactly', () => {
  const split = (length: number) => {
    const sizes = [Math.min(2, length)];
    for (let done = sizes[0]!; done < length; done += sizes[sizes.length - 1]!) sizes.push(nextBatchSize(sizes[sizes.length - 1]!, length - done));
    return sizes;
  };
  expect(split(25)).toEqual([2, 4, 8, 6, 3, 1, 1]);
  expect(split(1)).toEqual([1]);
  expect(split(3)).toEqual([2, 1]);
  for (let length = 1; length <= 200; length++) {
    const sizes = split(length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(length);
    // A group's last batch is small whatever its length: the page waits for at most that many tests.
    expect(sizes[sizes.length - 1]!).toBeLessThanOrEqual(2);
    // Few round trips: about twice log2 of the group's length.
    expect(sizes.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(length + 1)) + 1);
  }
});
