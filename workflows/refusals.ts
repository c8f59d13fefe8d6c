// Why a command's payload was refused, in words a host system can show. Refusals by the pathway's
// rules are worded by the machine's own module (machines/rules.ts).

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** zod issues as `field: message; field: message`, naming each field by its path. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return `${path || '(payload)'}: ${issue.message}`;
    })
    .join('; ');
}
