/**
 * When a chat completion stops being a valid answer to replay, epoch seconds: the earliest `audio.expires_at` of its
 * choices (`modalities: ["text", "audio"]`). OpenAI's `ChatCompletionAudio.expires_at` is "when this audio response will
 * no longer be accessible on the server for use in multi-turn conversations": the next turn names the answer's audio by
 * its `id` (`{role: "assistant", audio: {id}}`), which the upstream refuses after that time. A kept answer replayed
 * later than it would hand the caller an id the next turn cannot use, so the response cache keeps it no longer
 * (request-cache.ts `keep`'s `notAfter`).
 * @param choices a ChatCompletion's `choices` (their `message`), or the choices of a stream's chunks (their `delta`:
 *   the audio's `expires_at` comes in one of them)
 * @returns undefined when no choice has audio with an `expires_at` (a positive number)
 */
export function audioExpiresAt(choices: ReadonlyArray<{ message?: unknown; delta?: unknown }>): number | undefined {
  let earliest: number | undefined;
  for (const choice of choices) {
    const at = ((choice.message ?? choice.delta) as { audio?: { expires_at?: unknown } } | null | undefined)?.audio?.expires_at;
    if (typeof at === 'number' && at > 0 && (earliest === undefined || at < earliest)) earliest = at;
  }
  return earliest;
}
