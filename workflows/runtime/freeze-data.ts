// Plain data shared by every case in a worker is frozen, so that no case can change it under
// another (workflows/runtime/shared-modules.ts). Schemas and the machine are left alone: zod and xstate
// memoize onto them, and zod resets a pattern's `lastIndex` on every test.

/** Freezes arrays and plain objects, and those inside them; stops at anything else (a schema, the machine). */
export function freezeData(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) freezeData(inner);
}
