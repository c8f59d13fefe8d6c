// Loaded once per worker into the workflow sandbox's shared module cache (the bundler's
// `preloadModules`), instead of once per case: the zod library was most of what each cached case
// cost. Only libraries belong here, never the pathway's own schemas or machine: the sandbox
// freezes shared modules, and zod memoizes onto each schema the first time it parses.
import { z } from 'zod';

// zod writes its default locale and memoizer into its global config when the first schema is
// built; build and run one now, before the sandbox freezes that config.
z.object({ warm: z.string() }).safeParse({ warm: 1 });
