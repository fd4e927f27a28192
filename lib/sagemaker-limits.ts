// SageMaker's documented parameter lengths that config values and run-time requests must stay within.

/**
 * The most characters SageMaker takes in an image URI: CreateTrainingJob `AlgorithmSpecification.TrainingImage`
 * (AlgorithmImage) and CreateModel `ContainerDefinition.Image` (ContainerImage), "Length Constraints: Maximum length of
 * 255" (Amazon SageMaker API Reference; botocore's sagemaker service model). An ECR URI can be longer (repository names
 * reach 256 characters, tags 128): SageMaker answers ValidationException for each job or model then, so the config refuses it.
 */
export const MAX_SAGEMAKER_IMAGE_CHARS = 255;

/**
 * The most characters of a SageMaker S3 URI: S3DataSource `S3Uri` (a training channel), CheckpointConfig `S3Uri`,
 * ContainerDefinition `ModelDataUrl`, "Length Constraints: Maximum length of 1024" (Amazon SageMaker API Reference).
 */
export const MAX_SAGEMAKER_S3_URI_CHARS = 1024;
