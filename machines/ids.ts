import { z } from 'zod';

/**
 * Identifiers travel into Temporal workflow ids, search attributes and logs, so they are limited
 * to characters that need no escaping anywhere and cannot smuggle free text (a name, an NHS number
 * with spaces) into an index.
 */
export const safeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
    error: 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
  });
