// Global setup of the `temporal` test project: provisions and starts the servers the tests need,
// so `npm test` needs nothing running beforehand. Workers and clients live in the test files.
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureWorkflowBundle } from '../../worker/bundle';
import type { TestProject } from 'vitest/node';
import { ensureTemporalCli, ensureTestServer, externalServer, root } from '../../scripts/provision.mjs';
import { pathwaySearchAttributes } from '../../workflows/search-attributes';
import { registerSearchAttributes } from '../../worker/search-attributes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    testServerPath: string;
    workflowBundlePath: string;
    /** The Temporal CLI, for tests that need a dev server of their own (a SQLite file, a restart). */
    temporalCliPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The bundle is built once per run (and reused while its sources are unchanged): webpack takes
  // seconds, every test file's workers load the same code.
  const workflowBundlePath = await ensureWorkflowBundle(join(root, 'test', 'fixtures', 'workflows.ts'), 'test-workflows');
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('testServerPath', await ensureTestServer());

  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  project.provide('temporalNamespace', namespace);
  const existing = externalServer();
  if (existing) {
    project.provide('temporalCliPath', await ensureTemporalCli().catch(() => ''));
    const connection = await Connection.connect({ address: existing });
    await registerSearchAttributes(connection, namespace);
    await connection.close();
    project.provide('temporalAddress', existing);
    return async () => {};
  }

  const cli = await ensureTemporalCli();
  project.provide('temporalCliPath', cli);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      searchAttributes: pathwaySearchAttributes,
      namespace,
      ui: false,
      extraArgs: ['--log-level', 'error'],
    },
  });
  project.provide('temporalAddress', env.address);
  return async () => {
    await env.teardown();
  };
}
