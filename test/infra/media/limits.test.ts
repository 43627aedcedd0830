import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEDIA_LIMITS } from '../../../src/domain/limits.ts';
import { PROCESSING_LIMITS } from '../../../src/infra/media/index.ts';

test('the processor enforces the same limits the instance advertises (src/domain/limits.ts)', () => {
  assert.equal(PROCESSING_LIMITS.imageMatrixLimit, MEDIA_LIMITS.imageMatrixLimit);
  assert.equal(PROCESSING_LIMITS.videoMatrixLimit, MEDIA_LIMITS.videoMatrixLimit);
  assert.equal(PROCESSING_LIMITS.videoFrameRateLimit, MEDIA_LIMITS.videoFrameRateLimit);
  assert.equal(PROCESSING_LIMITS.videoSizeLimit, MEDIA_LIMITS.videoSizeLimit);
});
