import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { apiServerConnection, type ApiServerConnection } from '../../services/common/kube.js';
import { listPage, readLines } from '../../services/common/list-watch.js';
import { parseSource } from '../../services/common/source.js';

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.isBuffer(part) ? part : Buffer.from(part);
}

const lines = async (stream: AsyncIterable<Buffer>, maxBytes = 1 << 20): Promise<string[]> => {
  const read: string[] = [];
  for await (const line of readLines(stream, maxBytes, '/api/v1/pods')) read.push(line);
  return read;
};

describe('watch events read a line at a time', () => {
  it('splits on newlines across chunks, drops a trailing CR, keeps a character cut between chunks whole, and ends with the last line', async () => {
    const snowman = Buffer.from('☃');
    const cut = Buffer.concat([Buffer.from('{"a":"'), snowman.subarray(0, 1)]);
    const rest = Buffer.concat([snowman.subarray(1), Buffer.from('"}\r\n{"b":1}\n\n{"c"')]);
    assert.deepEqual(await lines(chunks(cut, rest, ':2}')), ['{"a":"☃"}', '{"b":1}', '', '{"c":2}']);
  });

  it('an event past the limit is an error that says so, whether it arrives in one chunk or many', async () => {
    await assert.rejects(lines(chunks('{"small":1}\n', 'x'.repeat(100), '\n'), 64), /watch \/api\/v1\/pods: an event exceeds 64 bytes/);
    await assert.rejects(lines(chunks('x'.repeat(40), 'x'.repeat(40), '\n'), 64), /an event exceeds 64 bytes/);
    assert.deepEqual(await lines(chunks('x'.repeat(64), '\n'), 64), ['x'.repeat(64)], 'one of exactly the limit is read');
  });
});

describe('list pages from the API server: what is not a page is a clear error', () => {
  let server: Server;
  let api: ApiServerConnection;
  before(async () => {
    server = createServer((request, response) => {
      const kind = new URL(request.url!, 'http://x').pathname;
      response.writeHead(kind === '/api/v1/denied' ? 403 : 200, { 'content-type': 'application/json' });
      if (kind === '/api/v1/large') {
        for (let i = 0; i < 10; i++) response.write(`{"items":[${'{},'.repeat(300)}{}]}`.slice(0, 1000));
        return void response.end();
      }
      if (kind === '/api/v1/denied') return void response.end(`{"kind":"Status","message":"pods is forbidden ${'x'.repeat(200_000)}"}`);
      if (kind === '/api/v1/html') return void response.end('<html>gateway</html>');
      if (kind === '/api/v1/status') return void response.end('{"kind":"Status","status":"Success"}');
      response.end('{"items":[{"metadata":{"name":"a"}}],"metadata":{"resourceVersion":"7"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = await apiServerConnection(parseSource(`kubernetes.summary_api:http://127.0.0.1:${(server.address() as AddressInfo).port}?inClusterConfig=false`));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a page is read; one past the size limit, one that is not JSON, and one without items each fail naming the path and why', async () => {
    assert.deepEqual((await listPage(api, '/api/v1/pods', {}, undefined)).items, [{ metadata: { name: 'a' } }]);
    await assert.rejects(listPage(api, '/api/v1/large', {}, undefined, 5000), /GET \/api\/v1\/large: the API server's response exceeds 5000 bytes/);
    await assert.rejects(listPage(api, '/api/v1/html', {}, undefined), /list \/api\/v1\/html: the API server's answer is not JSON/);
    await assert.rejects(listPage(api, '/api/v1/status', {}, undefined), /list \/api\/v1\/status: the API server's answer has no items array/);
  });

  it('an error status quotes the API server\'s message, read no further than the start of a huge body', async () => {
    await assert.rejects(listPage(api, '/api/v1/denied', {}, undefined), (error: Error) => {
      assert.match(error.message, /^list \/api\/v1\/denied: HTTP 403: /);
      assert.ok(error.message.length < 300, `quoted, not copied whole (${error.message.length} characters)`);
      return true;
    });
  });
});
