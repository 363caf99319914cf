/**
 * The server as a process component: it closes promptly with keep-alive connections open, and it
 * answers absolute-form (proxy-style) request targets, which is how an engine configured with a
 * proxy (WebKitGTK's MiniBrowser `--proxy=`) reaches website host names no resolver knows.
 */
import { test, expect } from '@playwright/test';
import { Agent, request } from 'node:http';
import { startServer } from './helpers.js';

test('should close promptly while keep-alive connections are open', async () => {
  const { server } = await startServer({ anonymousAccess: 'open' });
  server.store.createBucket('keepalive');
  server.store.putObject('keepalive', 'k', 'v');
  const agent = new Agent({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path: '/keepalive/k', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    })
      .on('error', reject)
      .end();
  });
  const started = Date.now();
  await server.close();
  expect(Date.now() - started).toBeLessThan(1000);
  agent.destroy();
});

test('should route an absolute-form website request by its authority', async () => {
  const { server, log } = await startServer();
  server.store.createBucket('proxied-site');
  server.store.setWebsite('proxied-site', { indexDocument: 'index.html' });
  server.store.setPolicy(
    'proxied-site',
    JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::proxied-site/*' }] }),
  );
  server.store.putObject('proxied-site', 'index.html', '<h1>via proxy</h1>', 'text/html');
  try {
    const text = await new Promise<string>((resolve, reject) => {
      request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: 'http://proxied-site.s3-website-us-east-1.corsproof.test/?corsproof-case=proxy',
          headers: { Host: 'proxied-site.s3-website-us-east-1.corsproof.test' },
        },
        (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(`${res.statusCode} ${b}`));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(text).toBe('200 <h1>via proxy</h1>');
    const x = await log.waitFor((e) => e.caseId === 'proxy', 2000);
    expect(x.server).toBe('website');
  } finally {
    await server.close();
  }
});
