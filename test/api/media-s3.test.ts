import { after } from 'node:test';
import { startS3 } from '../support/media.ts';
import { mediaSuite } from './media-suite.ts';

// The media API with files in an S3-compatible bucket (the scaled shape's storage): a real
// S3 server (s3rver) on loopback, started before the suite's context.
const s3 = await startS3();
after(() => s3.close());
mediaSuite({ context: { env: s3.env } });
