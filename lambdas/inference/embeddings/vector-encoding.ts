/**
 * OpenAI's `encoding_format: base64`: the vector's float32 values, little-endian, 4 bytes each,
 * in base64 (what `openai-node`'s `toFloat32Array` and `openai-python`'s
 * `array.array("f", base64.b64decode(...))` decode). Written with explicit little-endian writes,
 * so the bytes do not depend on the machine's byte order.
 */
export function floatsToBase64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4);
  return bytes.toString('base64');
}

/**
 * The floats of an OpenAI base64 vector (little-endian float32).
 * @throws Error when the decoded length is not a multiple of 4 bytes
 */
export function base64ToFloats(encoded: string): number[] {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`a base64 embedding decodes to ${bytes.length} bytes, not a whole number of float32 values`);
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/**
 * A vector as the caller asked for it: `base64` → OpenAI's base64; `float` → floats (decoding a
 * base64 vector an upstream sent anyway). Floats become float32 either way in base64, as OpenAI's own are.
 * @throws Error for a vector that is neither an array of numbers nor a string
 */
export function encodeVector(vector: number[] | string, format: 'float' | 'base64'): number[] | string {
  if (typeof vector === 'string') return format === 'base64' ? vector : base64ToFloats(vector);
  if (!Array.isArray(vector) || vector.some((v) => typeof v !== 'number')) throw new Error('an embedding is neither an array of numbers nor a base64 string');
  return format === 'base64' ? floatsToBase64(vector) : vector;
}

/**
 * The number of values in an upstream's vector: the array's length, or the float32 count of a
 * base64 string (its decoded bytes ÷ 4, without decoding). Undefined for anything else: not an
 * array or a string, or base64 whose bytes are not a whole number of float32 values.
 */
export function vectorLength(vector: number[] | string): number | undefined {
  if (Array.isArray(vector)) return vector.length;
  if (typeof vector !== 'string') return undefined;
  const padding = vector.endsWith('==') ? 2 : vector.endsWith('=') ? 1 : 0;
  const bytes = Math.floor((vector.length * 3) / 4) - padding;
  return bytes % 4 === 0 ? bytes / 4 : undefined;
}
