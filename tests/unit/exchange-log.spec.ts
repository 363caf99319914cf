/**
 * The exchange log's bound (servers/exchange-log.ts): a long-lived `corsproof serve` keeps the
 * newest exchanges and those of case ids still being read; a test run keeps everything.
 */
import { test, expect } from '@playwright/test';
import { ExchangeLog, type Exchange } from '../../servers/exchange-log.js';

function exchange(i: number, caseId?: string): Omit<Exchange, 'seq'> {
  return {
    at: new Date(0).toISOString(),
    server: 'bucket',
    method: 'GET',
    url: `/b/k${i}${caseId ? `?corsproof-case=${caseId}` : ''}`,
    ...(caseId ? { caseId } : {}),
    requestHeaders: { host: '127.0.0.1' },
    status: 200,
    responseHeaders: {},
    durationMs: 0,
  };
}

test('should keep every exchange when no bound is set, as a test run does', () => {
  const log = new ExchangeLog();
  for (let i = 0; i < 10_000; i++) log.record(exchange(i, `c${i % 7}`));
  expect(log.all()).toHaveLength(10_000);
  expect(log.forCase('c3')).toHaveLength(1_429);
  expect(log.dropped).toBe(0);
});

test('should keep only the newest exchanges, in order, beyond the bound', () => {
  const log = new ExchangeLog({ keep: 100 });
  for (let i = 0; i < 10_000; i++) log.record(exchange(i, `c${i}`));
  expect(log.all().map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 9_901 + i));
  expect(log.dropped).toBe(9_900);
  expect(log.forCase('c9999')).toHaveLength(1);
  expect(log.forCase('c0')).toHaveLength(0);
});

test('should keep a held case\'s exchanges, earlier and later ones, until it is released', () => {
  const log = new ExchangeLog({ keep: 10 });
  log.record(exchange(0, 'read-me'));
  const release = log.hold('read-me');
  const releaseToo = log.hold('read-me');
  for (let i = 1; i < 1_000; i++) log.record(exchange(i, i % 100 === 0 ? 'read-me' : undefined));
  expect(log.forCase('read-me').map((e) => e.seq), 'every exchange of the held case').toEqual([1, 101, 201, 301, 401, 501, 601, 701, 801, 901]);
  expect(log.all().filter((e) => e.caseId !== 'read-me'), 'plus the newest 10 others').toHaveLength(10);
  release();
  release();
  expect(log.forCase('read-me'), 'one holder remains').toHaveLength(10);
  releaseToo();
  expect(log.all(), 'released: the bound applies to it again').toHaveLength(10);
  expect(log.all().at(-1)?.seq).toBe(1_000);
});

test('should still resolve a waiter with an exchange the bound drops at once', async () => {
  const log = new ExchangeLog({ keep: 0 });
  const waited = log.waitFor((e) => e.caseId === 'w', 1_000);
  log.record(exchange(1, 'w'));
  expect((await waited).seq).toBe(1);
  expect(log.all()).toHaveLength(0);
});
