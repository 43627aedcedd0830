import { mediaSuite } from './media-suite.ts';

// The media API with files on local disk (the embedded default, data/media).
mediaSuite({});
