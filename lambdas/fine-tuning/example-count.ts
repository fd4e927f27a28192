/**
 * The fewest examples a training file may hold: OpenAI's fine-tuning guide, "Preparing your dataset": "To fine-tune a
 * model, you are required to provide at least 10 examples." OpenAI fails a job on fewer at its file validation.
 */
export const MIN_TRAINING_EXAMPLES = 10;

/**
 * Counts the examples (non-blank lines, as training-file-format.ts counts them: a line blank once trimmed) of a file
 * already checked at upload, reading its pieces only until `atMost` are found: a job create asks for
 * MIN_TRAINING_EXAMPLES, so a file of the usual shape is read no further than its first pieces, however large (an
 * upload of 256 MiB). Decoded as UTF-8 across pieces (a character cut between two pieces stays whole).
 * @param pieces the file's bytes in order (TrainingFileStore.contentPieces)
 * @param atMost where to stop counting
 * @returns the number of examples, at most `atMost`
 */
export async function countExamples(pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, atMost: number): Promise<number> {
  const decoder = new TextDecoder();
  let count = 0;
  let lineHasText = false;
  const take = (text: string): boolean => {
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (!lineHasText && line.trim() !== '') lineHasText = true;
      if (i === lines.length - 1) break; // the last piece of text is a line still open
      if (lineHasText) count++;
      lineHasText = false;
      if (count >= atMost) return true;
    }
    return false;
  };
  for await (const piece of pieces) {
    if (take(decoder.decode(piece, { stream: true }))) return count;
  }
  take(decoder.decode());
  return lineHasText ? Math.min(count + 1, atMost) : count;
}
