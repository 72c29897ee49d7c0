/**
 * A `node --test` reporter for the Fabric suites (run.ts adds it next to `spec`): one JSON line per
 * failed test, with its error and the diagnostics it printed, so run.ts can repeat the failures at the
 * very end of its output. CI keeps only the tail of what a run printed, and after a failure that tail
 * is otherwise the network's logs, which say what the nodes saw but not which assertion failed.
 */
import type { TestEvent } from 'node:test/reporters';

/** What run.ts reads back (one per line). */
export interface FailedTest {
  readonly file: string | undefined;
  readonly name: string;
  readonly nesting: number;
  /** True for a suite or test that failed only because a subtest did. */
  readonly subtestsFailed: boolean;
  readonly message: string;
  readonly diagnostics: readonly string[];
}

/** The assertion or error inside node:test's wrapper (ERR_TEST_FAILURE carries it as `cause`). */
function describeError(error: unknown): { message: string; subtestsFailed: boolean } {
  const e = error as { cause?: unknown; failureType?: string; message?: string } | undefined;
  const subtestsFailed = e?.failureType === 'subtestsFailed';
  const inner = (e?.cause ?? e) as { message?: string; stack?: string } | undefined;
  const text = inner?.message ?? String(inner);
  // The first frame inside the project says where (the suites are compiled to dist/test/fabric).
  const where = inner?.stack
    ?.split('\n')
    .find((l) => l.includes('/dist/'))
    ?.trim();
  return { message: where ? `${text}\n${where}` : text, subtestsFailed };
}

/**
 * A test's diagnostics follow its own pass or fail event at its nesting level, so a failure is held
 * until the next test event and takes the diagnostics that arrive in between.
 */
export default async function* failures(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  let pending: (Omit<FailedTest, 'diagnostics'> & { diagnostics: string[] }) | undefined;
  const flush = (): string => {
    const line = pending ? `${JSON.stringify(pending)}\n` : '';
    pending = undefined;
    return line;
  };
  for await (const event of source) {
    switch (event.type) {
      case 'test:diagnostic':
        if (pending?.nesting === event.data.nesting) pending.diagnostics.push(event.data.message);
        break;
      case 'test:pass':
        yield flush();
        break;
      case 'test:fail': {
        yield flush();
        const { message, subtestsFailed } = describeError(event.data.details.error);
        pending = {
          file: event.data.file,
          name: event.data.name,
          nesting: event.data.nesting,
          subtestsFailed,
          message,
          diagnostics: [],
        };
        break;
      }
    }
  }
  yield flush();
}
