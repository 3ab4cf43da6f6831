/**
 * `show check FILE` and `show run FILE [--from N]`: read and check a run-sheet, then run it. A
 * sheet with any mistake is refused whole, with each mistake's line and field, and nothing is sent.
 */
import { readFileSync } from 'node:fs';
import type { HostClient } from '../../client/host-client';
import { runShow, type ShowOutcome, ShowStopped } from '../show/run';
import { readSheet, type SheetItem } from '../show/sheet';
import type { CliIo } from './io';
import { CliError } from './target';

/** Reads and checks the sheet, or throws a CliError listing `FILE:LINE: field: message` lines. */
export function checkedSheet(file: string): { title?: string; items: readonly SheetItem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the run-sheet ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  const sheet = readSheet(text);
  if (!sheet.ok) {
    const lines = sheet.errors.map((e) => `${file}:${e.line}: ${e.field}: ${e.message}`);
    throw new CliError(
      `the run-sheet has ${lines.length} mistake${lines.length === 1 ? '' : 's'}; nothing was sent\n${lines.join('\n')}`,
    );
  }
  return sheet;
}

export function renderCheck(file: string, sheet: { title?: string; items: readonly SheetItem[] }): string {
  const head = `${file}: ${sheet.title ? `"${sheet.title}", ` : ''}${sheet.items.length} items, all valid\n`;
  return (
    head + sheet.items.map((item, i) => `  ${i + 1}. ${item.type}, then ${item.pauseSeconds} s\n`).join('')
  );
}

/** Runs the sheet from item `from`; prints the summary on stdout, and on a stop how to resume. */
export async function runSheet(client: HostClient, file: string, from: number, io: CliIo): Promise<void> {
  const sheet = checkedSheet(file);
  if (from > sheet.items.length) {
    throw new CliError(`--from ${from}: the run-sheet has ${sheet.items.length} items`);
  }
  io.stderr(`running ${sheet.title ? `"${sheet.title}"` : file}: items ${from} to ${sheet.items.length}\n`);
  try {
    io.stdout(summary(await runShow(client, sheet.items, io, from)));
  } catch (error) {
    if (!(error instanceof ShowStopped)) throw error;
    if (error.outcomes.length > 0) io.stdout(summary(error.outcomes));
    const resume = `resume with: npm run host -- show run ${file} --from ${error.item}`;
    const cause = error.cause instanceof Error ? error.cause : new Error(String(error.cause));
    throw Object.assign(cause, { resume });
  }
}

function summary(outcomes: readonly ShowOutcome[]): string {
  return `${outcomes.map((o) => `${o.item}. ${o.type} "${o.label}": ${o.result}\n`).join('')}`;
}
