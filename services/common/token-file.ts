/**
 * A bearer token kept in a file that is rewritten as it rotates: a pod's projected service-account
 * token, which the kubelet refreshes well before it expires (after an hour, where the API server
 * does not extend it). Both the API server connection and the kubelet client send one.
 */
import { readFileSync } from 'node:fs';

/** A read token is used this long before the file is read again: as client-go's in-cluster config, a rotated token is in use within a minute. */
export const TOKEN_REREAD_MS = 60_000;

export class TokenFile {
  private token: { value: string; readAtMs: number } | undefined;

  constructor(
    readonly path: string,
    private readonly rereadMs: number = TOKEN_REREAD_MS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * The token (the file's text, trimmed), read again once `rereadMs` have passed since the last
   * read. A failed re-read (the file being replaced) keeps the last token; the first read's failure throws.
   */
  current(): string {
    const now = this.nowMs();
    if (this.token !== undefined && now - this.token.readAtMs < this.rereadMs) return this.token.value;
    try {
      this.token = { value: readFileSync(this.path, 'utf8').trim(), readAtMs: now };
    } catch (error) {
      if (this.token === undefined) throw error;
      this.token.readAtMs = now;
    }
    return this.token.value;
  }
}
