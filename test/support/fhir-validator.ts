// The HAPI FHIR R4 validator for tests: one JVM per test file (the provisioned launcher in serve
// mode, one resource per line in, one OperationOutcome per line out), so the JVM's start-up and the
// R4 definitions are paid for once. The project's own CodeSystems are loaded first, so their codes
// are checked against their definitions rather than passed as unknown.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { ensureFhirValidator } from '../../scripts/provision.mjs';
import { codeSystems } from '../../gateway/fhir/resources';

export interface Validation {
  outcome: OperationOutcome;
  errors: string[];
  warnings: string[];
}

export interface FhirValidator {
  validate(resource: Resource): Promise<Validation>;
  close(): Promise<void>;
}

function describe(issue: NonNullable<OperationOutcome['issue']>[number]): string {
  return `${issue.expression?.join(',') ?? issue.location?.join(',') ?? '?'}: ${issue.diagnostics ?? issue.code}`;
}

export async function startFhirValidator(options: { startTimeoutMs?: number } = {}): Promise<FhirValidator> {
  const { java, args } = await ensureFhirValidator();
  const dir = mkdtempSync(join(tmpdir(), 'fhir-validator-'));
  const preload = join(dir, 'code-systems.json');
  writeFileSync(preload, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: codeSystems().map((resource) => ({ resource })) }));
  const child: ChildProcessWithoutNullStreams = spawn(java, [...args, '--preload', preload, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const pending: Array<{ resolve: (v: Validation) => void; reject: (e: Error) => void }> = [];
  let exited: Error | undefined;
  let ready: (() => void) | undefined;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`the FHIR validator exited (${code}) before it was ready:\n${stderr}`)));
    child.once('error', reject);
  });
  child.on('exit', (code) => {
    exited = new Error(`the FHIR validator exited (${code}):\n${stderr}`);
    for (const p of pending.splice(0)) p.reject(exited);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.trim()) return;
    const parsed = JSON.parse(line) as { ready?: boolean } & OperationOutcome;
    if (parsed.ready) {
      ready?.();
      return;
    }
    const waiting = pending.shift();
    if (!waiting) return;
    const issues = parsed.issue ?? [];
    waiting.resolve({
      outcome: parsed,
      errors: issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map(describe),
      warnings: issues.filter((i) => i.severity === 'warning').map(describe),
    });
  });
  const timeout = options.startTimeoutMs ?? 120_000;
  await Promise.race([started, new Promise((_, reject) => setTimeout(() => reject(new Error(`the FHIR validator was not ready after ${timeout} ms`)), timeout).unref())]);

  return {
    validate(resource) {
      if (exited) return Promise.reject(exited);
      return new Promise<Validation>((resolve, reject) => {
        pending.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(resource)}\n`);
      });
    },
    async close() {
      const done = new Promise<void>((resolve) => (exited ? resolve() : child.once('exit', () => resolve())));
      child.stdin.end();
      await done;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
