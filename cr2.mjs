import { chromium } from '@playwright/test';
const extra = (process.env.ARGS ?? '').split(' ').filter(Boolean);
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extra] });
const p = await (await b.newContext()).newPage();
await p.goto('data:text/html,<p>hi</p>');
for (let i = 0; i < 20; i++) await p.evaluate(() => fetch('data:text/plain,x').then((r) => r.text()));
await b.close();
