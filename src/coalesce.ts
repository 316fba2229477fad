/**
 * One pass of `pass` at a time, for work woken by notifications: a call while a pass runs
 * asks for exactly one more pass after it (calls meanwhile coalesce into that one), and a
 * pass that returns true (a full batch: maybe more waiting) asks for another. `pass`
 * handles its own errors.
 */
export function coalesced(pass: () => Promise<boolean | void>): () => Promise<void> {
  let running = false;
  let again = false;
  return async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        if (await pass()) again = true;
      } while (again);
    } finally {
      running = false;
    }
  };
}
