/** The media processor (processor.ts explains what each kind of file becomes). */
export { PROCESSING_LIMITS, PROFILE_IMAGE_DIMENSIONS } from './limits.ts';
export { createMediaProcessor } from './processor.ts';
export {
  type Identified,
  type MediaDimensions,
  type MediaMeta,
  MediaProcessingError,
  type MediaProcessingFailure,
  type MediaProcessor,
  type MediaProcessorOptions,
  type MediaType,
  type ProcessedFile,
  type ProcessedMedia,
  type ProcessedThumbnail,
} from './types.ts';
