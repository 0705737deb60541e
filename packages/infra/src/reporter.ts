/** Receives one line of human-readable progress (written to stderr by the CLI and the test setup). */
export type Reporter = (line: string) => void;

/** Prints progress lines to stderr with a prefix, so they never mix with a command's stdout output. */
export const stderrReporter: Reporter = (line) => {
  process.stderr.write(`[infra] ${line}\n`);
};

export const silentReporter: Reporter = () => undefined;
