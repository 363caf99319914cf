/**
 * The per-case timeout, in every engine: a case whose request never gets an answer is aborted when
 * its time is up and fails with its case id and what it was waiting for; the case after it in the
 * same batch runs as usual and sees none of the first one's messages.
 */
import { createServer, type Socket } from 'node:net';
import { test, expect } from '../config/test.js';
import { CASE_PARAM } from '../../servers/exchange-log.js';
import { BUCKET_HOST } from '../../harness/origins.js';
import { HARNESS_PATH } from '../../servers/site/paths.js';
import type { CaseSpec } from '../../engines/types.js';

test('a case that never finishes fails within its timeout naming what it waited for, and the next case passes', async ({ engineSession, servers }) => {
  // A server that accepts connections, reads the request and never answers.
  const sockets: Socket[] = [];
  const closed: string[] = [];
  const hang = createServer((socket) => {
    sockets.push(socket);
    let head = '';
    socket.on('data', (d) => (head += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => closed.push(head.split('\r\n')[0] ?? ''));
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const port = (hang.address() as { port: number }).port;
  try {
    const engine = engineSession.build.engine;
    const hangUrl = `http://${BUCKET_HOST}:${port}/hang.txt?${CASE_PARAM}=timeout-hang-${engine}`;
    const specs: CaseSpec[] = [
      { caseId: `timeout-hang-${engine}`, steps: [{ kind: 'fetch', url: hangUrl, method: 'GET' }] },
      {
        caseId: `timeout-next-${engine}`,
        steps: [{ kind: 'fetch', url: `${servers.origins.SITE_ORIGIN}${HARNESS_PATH}?${CASE_PARAM}=timeout-next-${engine}`, method: 'GET' }],
      },
    ];
    const caseTimeoutMs = 2_000;
    const [hung, next] = await engineSession.runBatch(specs, caseTimeoutMs);

    const last = hung!.result.steps[hung!.result.steps.length - 1]!;
    expect(last.settled, 'the hanging case fails as a harness error, not as a CORS verdict').toBe('harness-error');
    expect(last.timedOut).toBe(true);
    expect(last.errorMessage).toContain(`case timeout-hang-${engine} did not finish within ${caseTimeoutMs} ms`);
    expect(last.errorMessage).toContain(`waiting for step 1 of 1 (fetch): GET ${hangUrl}`);
    // The request reached the server and was cancelled when the case's time was up.
    await expect.poll(() => closed, { message: 'the browser closed the hanging request' }).toContainEqual(expect.stringMatching(/^GET \/hang\.txt\?/));

    expect(next!.result.steps.map((s) => s.settled), 'the next case ran to its response').toEqual(['response']);
    expect(next!.result.steps[0]!.status).toBe(200);
    expect(next!.messages.map((m) => m.text).join('\n'), 'nothing of the first case leaks into the next').not.toContain('hang.txt');
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => hang.close(r));
  }
});
