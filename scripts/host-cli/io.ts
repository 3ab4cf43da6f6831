/** Where the CLI writes: one call per block of text, each ending with a newline. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** stderr is a terminal: a countdown rewrites its line instead of printing a new one. @default false */
  readonly interactive?: boolean;
}
