import { describe, expect, it } from 'vitest';
import { sqliteModeFromEnv } from '../../../scripts/dev-server';

describe('PATHWAY_SQLITE', () => {
  it("is SQLite's own settings when unset or empty", () => {
    expect(sqliteModeFromEnv({})).toBe('default');
    expect(sqliteModeFromEnv({ PATHWAY_SQLITE: '' })).toBe('default');
  });

  it('names the write-ahead log', () => {
    expect(sqliteModeFromEnv({ PATHWAY_SQLITE: 'wal' })).toBe('wal');
  });

  it('refuses anything else by name, before a server starts', () => {
    expect(() => sqliteModeFromEnv({ PATHWAY_SQLITE: 'WAL' })).toThrow('PATHWAY_SQLITE must be one of default, wal, not "WAL"');
    expect(() => sqliteModeFromEnv({ PATHWAY_SQLITE: 'journal_mode=OFF' })).toThrow(/must be one of/);
  });
});
