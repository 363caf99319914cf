/**
 * The site origin's route for the page's SDK bundle. The build starts when the site app is created
 * (so it overlaps the engine's launch) and the route waits for it; a failed build is answered 500
 * with esbuild's message, which the in-page runner turns into a harness error naming the URL.
 */
import type { Request, Response } from 'express';
import { ensureSdkBundle } from './build.js';

export function serveSdkBundle() {
  const bundle = ensureSdkBundle();
  bundle.catch(() => {}); // reported when a page asks for it
  return (_req: Request, res: Response): void => {
    bundle
      .then((b) => {
        res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
        res.setHeader('X-Corsproof-Sdk', `@aws-sdk/client-s3@${b.sdkVersion}`);
        res.sendFile(b.file, { dotfiles: 'allow' }); // node_modules/.cache is a dot-folder
      })
      .catch((e: unknown) => {
        res.status(500).type('text/plain').send(`corsproof: building the SDK bundle failed: ${(e as Error).message}`);
      });
  };
}
