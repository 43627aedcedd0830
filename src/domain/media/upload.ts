/**
 * A file part of a multipart/form-data request, already streamed to a temporary file by the HTTP
 * layer (src/http/multipart.ts) with the size limits enforced while reading. It travels inside the
 * request's parameters like any other value, so `params.file`, `params.avatar` or
 * `params.media_attributes[0][thumbnail]` may hold one. The temporary file is removed when the
 * response is sent: whatever must outlive the request is copied to storage before that.
 */
export class UploadedFile {
  /** The temporary file holding the bytes. */
  readonly path: string;
  /** The client's file name (may be empty; never used as a path). */
  readonly filename: string;
  /** The Content-Type the client declared for the part (lower case, parameters stripped). */
  readonly mimetype: string;
  /** Bytes. */
  readonly size: number;

  constructor(path: string, filename: string, mimetype: string, size: number) {
    this.path = path;
    this.filename = filename;
    this.mimetype = mimetype;
    this.size = size;
  }
}

export function isUploadedFile(value: unknown): value is UploadedFile {
  return value instanceof UploadedFile;
}
