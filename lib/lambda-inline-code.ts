/**
 * CloudFormation's rule for a Lambda function's inline code (AWS::Lambda::Function `Code.ZipFile`, Node.js and Python
 * runtimes): CloudFormation writes the source to a file named `index` and zips it, and "This zip file cannot exceed 4MB"
 * (CloudFormation Template Reference, AWS::Lambda::Function Code, ZipFile; the provider schema cfn-lint ships says the
 * same). The "maximum length of 4096 characters" of older versions of that page is gone: CloudFormation removed it in 2022,
 * and aws-cdk-lib dropped its own check of it then (aws/aws-cdk#20624, "inline function code can exceed 4096 bytes").
 * The template holds the source too: a tier blueprint stays within CloudFormation's template size either way.
 */

/** The most bytes the zip of inline code may have: "4MB", read as the smaller, decimal megabytes. */
export const INLINE_CODE_ZIP_MAX_BYTES = 4_000_000;

/** Bytes a zip of one file named `index.py` (or `index.js`) adds to its content: local header, central directory entry, end record. */
const ZIP_OVERHEAD_BYTES = (30 + 8) + (46 + 8) + 22;

/**
 * An upper bound of the zip CloudFormation builds of `source`: its UTF-8 bytes stored uncompressed, plus the zip's headers
 * (a deflated zip is smaller).
 *
 * @param source the function's source, as the template's `Code.ZipFile`
 * @returns bytes
 */
export function inlineCodeZipBytes(source: string): number {
  return Buffer.byteLength(source, 'utf8') + ZIP_OVERHEAD_BYTES;
}

/**
 * Why CloudFormation would refuse `source` as a function's `Code.ZipFile`, or undefined when it takes it.
 *
 * @param source the function's source
 * @param file where the source comes from, named in the message (e.g. `lambdas/cluster-manifests/apply_manifests.py`)
 * @returns `<file>: its zip would take up to <n> bytes: …`, or undefined
 */
export function inlineCodeProblem(source: string, file: string): string | undefined {
  const bytes = inlineCodeZipBytes(source);
  return bytes > INLINE_CODE_ZIP_MAX_BYTES
    ? `${file}: its zip would take up to ${bytes} bytes: CloudFormation's Code.ZipFile zip takes at most ${INLINE_CODE_ZIP_MAX_BYTES} (4 MB); ship the code as an asset instead`
    : undefined;
}
