// The directory's typed errors: a host (the CLI, an activity) tells a bad source or an unknown need
// apart from a fault without reading messages.

/** The whole source could not be read: not JSON, not an HSDS export, an HTTP error. Nothing was changed. */
export class DirectorySourceError extends Error {
  override readonly name = 'DirectorySourceError';
}

/** A need that is neither a taxonomy term of the scheme's directory nor an activity category. */
export class UnknownNeedError extends Error {
  override readonly name = 'UnknownNeedError';
  constructor(
    readonly need: string,
    readonly known: string[],
  ) {
    super(`unknown need "${need}": not a taxonomy term code of this directory nor an activity category (known: ${known.join(', ')})`);
  }
}
