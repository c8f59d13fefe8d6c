// `npm start`'s dev server keeps its SQLite file the way PATHWAY_SQLITE says. Checked on the file
// itself: SQLite writes 2 into bytes 18 and 19 of a database's header once it is in WAL mode, and 1
// while it keeps a rollback journal.
import { existsSync, mkdirSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevServer, type SqliteMode } from '../../scripts/dev-server';
import { freePort } from '../support/faults';

const dir = join(__dirname, '..', '..', '.data', `test-sqlite-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function headerVersions(file: string): [number, number] {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(20);
    readSync(fd, header, 0, 20, 0);
    return [header[18]!, header[19]!];
  } finally {
    closeSync(fd);
  }
}

async function serverWith(sqlite: SqliteMode) {
  mkdirSync(dir, { recursive: true });
  const dbFile = join(dir, `${sqlite}.sqlite`);
  const server = await startDevServer({ port: await freePort(), uiPort: await freePort(), dbFile, sqlite });
  try {
    // Something committed through the server, so the file is past its first write.
    const connection = await Connection.connect({ address: server.address });
    await connection.workflowService.listNamespaces({});
    await connection.close();
    return { dbFile, versions: headerVersions(dbFile), walFile: existsSync(`${dbFile}-wal`) };
  } finally {
    await server.stop();
  }
}

describe("the dev server's SQLite file", () => {
  it('keeps a write-ahead log when asked for wal', { timeout: 60_000 }, async () => {
    const wal = await serverWith('wal');
    expect(wal.versions).toEqual([2, 2]);
  });

  it("keeps SQLite's rollback journal by default", { timeout: 60_000 }, async () => {
    const plain = await serverWith('default');
    expect(plain.versions).toEqual([1, 1]);
    expect(plain.walFile).toBe(false);
  });
});
