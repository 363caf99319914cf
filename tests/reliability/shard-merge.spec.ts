/**
 * What the CI workflow does across machines, done locally on the `unit` project (fast, no browser):
 * two shards each write a blob report, `merge-reports` joins them, and the merged report holds every
 * unit test exactly once — the same tests an unsharded `--list` names.
 */
import { test, expect } from '@playwright/test';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, runNpx } from './helpers.js';
import { flatten, type JsonReport } from './report-json.js';

test('shards 1/2 and 2/2 merge into one report with every unit test exactly once', async ({}, testInfo) => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-shards-'));
  try {
    // The two shards and the unsharded list, at the same time (as CI's machines would). No
    // browsers here, so no need to wait for the nested browser runs' lock (helpers.exclusive).
    const listFile = join(dir, 'list.json');
    const [shard1, shard2, listed] = await Promise.all([
      ...[1, 2].map((shard) =>
        runNpx(
          ['playwright', 'test', '--project=unit', `--shard=${shard}/2`, '--reporter=blob', `--output=${join(dir, `out-${shard}`)}`],
          childEnv({ CORSPROOF_OUTPUT_DIR: dir, PLAYWRIGHT_BLOB_OUTPUT_DIR: join(dir, `blob-${shard}`), PLAYWRIGHT_BLOB_OUTPUT_NAME: `report-unit-${shard}.zip` }),
          90_000,
        ),
      ),
      runNpx(['playwright', 'test', '--project=unit', '--list', '--reporter=json', `--output=${join(dir, 'out-list')}`], childEnv({ CORSPROOF_OUTPUT_DIR: dir, PLAYWRIGHT_JSON_OUTPUT_FILE: listFile }), 60_000),
    ]);
    for (const [shard, r] of [[1, shard1!], [2, shard2!]] as const) {
      expect(r.code, `shard ${shard}/2\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(readdirSync(join(dir, `blob-${shard}`))).toEqual([`report-unit-${shard}.zip`]);
    }
    expect(listed!.code, `${listed!.stdout}\n${listed!.stderr}`).toBe(0);
    const list = flatten(JSON.parse(readFileSync(listFile, 'utf8')) as JsonReport).map((t) => t.key).sort();

    // As the workflow's download step does: every shard's blob in one folder, then merge-reports;
    // and each shard's blob on its own, to know which tests each shard ran.
    const all = join(dir, 'all-blob-reports');
    mkdirSync(all);
    for (const shard of [1, 2]) copyFileSync(join(dir, `blob-${shard}`, `report-unit-${shard}.zip`), join(all, `report-unit-${shard}.zip`));
    const mergedFile = join(dir, 'merged.json');
    const merges = await Promise.all(
      [[all, mergedFile], [join(dir, 'blob-1'), join(dir, 'shard-1.json')], [join(dir, 'blob-2'), join(dir, 'shard-2.json')]].map(([from, to]) =>
        runNpx(['playwright', 'merge-reports', '--reporter=json', from!], childEnv({ PLAYWRIGHT_JSON_OUTPUT_FILE: to! }), 60_000),
      ),
    );
    for (const m of merges) expect(m.code, `${m.stdout}\n${m.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(mergedFile, 'utf8')) as JsonReport;
    const shardTests = [1, 2].map((shard) => flatten(JSON.parse(readFileSync(join(dir, `shard-${shard}.json`), 'utf8')) as JsonReport).map((t) => t.key));

    const mergedTests = flatten(report);
    const keys = mergedTests.map((t) => t.key);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1);
    await testInfo.attach('shards.json', {
      body: JSON.stringify({ listed: list.length, shard1: shardTests[0]!.length, shard2: shardTests[1]!.length, merged: keys.length }, null, 2),
      contentType: 'application/json',
    });

    expect(list.length, 'the unit project has tests').toBeGreaterThan(10);
    expect(shardTests[0]!.length, 'shard 1 ran something').toBeGreaterThan(0);
    expect(shardTests[1]!.length, 'shard 2 ran something').toBeGreaterThan(0);
    expect(shardTests[0]!.filter((k) => shardTests[1]!.includes(k)), 'no test in both shards').toEqual([]);
    expect([...shardTests[0]!, ...shardTests[1]!].sort(), 'the shards together are the unsharded list').toEqual(list);
    expect(duplicated, 'no test twice in the merged report').toEqual([]);
    expect([...keys].sort(), 'the merged report is the unsharded list').toEqual(list);
    for (const t of mergedTests) {
      expect(t.results, `${t.key} ran once`).toHaveLength(1);
      expect(t.results[0]!.status, t.key).toBe('passed');
    }
    expect(report.stats.unexpected).toBe(0);
    expect(report.stats.expected).toBe(list.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
