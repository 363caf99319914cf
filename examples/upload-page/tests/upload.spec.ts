import { test, expect } from 'corsproof/test';
import { APP } from '../playwright.config';

// What a user does on the page: choose a file, press Upload, wait for the page to say how it went.
const file = { name: 'hello.txt', mimeType: 'text/plain', content: 'hello from the upload page' };
const upload = {
  actions: [{ setInputFiles: '#file', files: [file] }, { click: '#upload' }],
  until: { text: /Uploaded|Upload failed/ },
};

test.describe('a rule for the app origin (S3 console JSON)', () => {
  test.use({ cors: [{ AllowedOrigins: [APP], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type'] }] });

  test('lets the upload through', async ({ corsproof }) => {
    const put = await corsproof.presign('PUT', 'uploads/hello.txt');
    const visit = await corsproof.visit(`${APP}/?put=${encodeURIComponent(put)}`, upload);

    expect(visit.text).toContain('Uploaded hello.txt');
    expect(visit.corsErrors).toEqual([]);
    // The preflight the browser sent before the PUT, and S3's answer to it.
    const [preflight, ...more] = corsproof.preflights();
    expect(more).toEqual([]);
    expect(preflight?.requestHeaders['access-control-request-method']).toBe('PUT');
    expect(preflight?.responseHeaders['access-control-allow-origin']).toBe(APP);
    expect(corsproof.getObject('uploads/hello.txt')?.body.toString()).toBe(file.content);
  });
});

test.describe('the same rule with the origin written with a trailing slash (PutBucketCors XML)', () => {
  test.use({
    cors: `<CORSConfiguration>
             <CORSRule>
               <AllowedOrigin>${APP}/</AllowedOrigin>
               <AllowedMethod>PUT</AllowedMethod>
               <AllowedHeader>content-type</AllowedHeader>
             </CORSRule>
           </CORSConfiguration>`,
  });

  test('blocks the upload at the preflight', async ({ corsproof }) => {
    const put = await corsproof.presign('PUT', 'uploads/hello.txt');
    const visit = await corsproof.visit(`${APP}/?put=${encodeURIComponent(put)}`, upload);

    expect(visit.text).toContain('Upload failed');
    // S3 matched no rule (browsers send the origin without a slash) and refused the preflight…
    expect(corsproof.preflights().map((x) => x.status)).toEqual([403]);
    // …so the browser never sent the PUT, and said why in its console.
    expect(corsproof.exchanges().filter((x) => x.method === 'PUT')).toEqual([]);
    // Chromium and Firefox name the missing Access-Control-Allow-Origin; WebKit stops at the 403.
    const reason = corsproof.engine.engine === 'webkit' ? 'preflight-status' : 'missing-allow-origin';
    expect(visit.corsErrors.flatMap((e) => e.reasons)).toContain(reason);
    expect(corsproof.getObject('uploads/hello.txt')).toBeUndefined();
  });
});
