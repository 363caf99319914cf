// Uploads the chosen file straight to S3 with a presigned PUT URL. In an app, the backend hands
// that URL out; this page takes it from its own query string (?put=…) so tests can give it one.
const putUrl = new URLSearchParams(location.search).get('put');
const status = document.getElementById('status');

document.getElementById('upload').addEventListener('click', async () => {
  const file = document.getElementById('file').files[0];
  if (!file || !putUrl) {
    status.textContent = 'Choose a file first.';
    return;
  }
  status.textContent = 'Uploading…';
  try {
    const r = await fetch(putUrl, { method: 'PUT', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } });
    status.textContent = r.ok ? `Uploaded ${file.name}` : `Upload failed: HTTP ${r.status}`;
  } catch (e) {
    // A CORS refusal: the browser tells the page nothing more than this; the console says why.
    status.textContent = `Upload failed: ${e.message}`;
  }
});
